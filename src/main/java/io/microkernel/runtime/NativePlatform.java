package io.microkernel.runtime;

import java.util.List;
import java.util.Locale;

/**
 * Where the natives of one platform sit in the classpath. One jar carries the training-enabled core
 * library for x86-64 (CPU, or CUDA in the {@code -Pcuda} build) and arm64, and ONNX Runtime Java's
 * JNI library for both; {@link #current()} picks by {@code os.arch}.
 *
 * @param name            the platform as this application names it, e.g. {@code linux-x86_64}
 * @param coreFolders     the resource folders that may hold the core library, in order of preference
 * @param jniResource     ONNX Runtime Java's own JNI library for this platform
 */
record NativePlatform(String name, List<String> coreFolders, String jniResource) {

    static final NativePlatform LINUX_X86_64 = new NativePlatform("linux-x86_64",
            List.of("org/bytedeco/onnxruntime/linux-x86_64-gpu/", "org/bytedeco/onnxruntime/linux-x86_64/"),
            "ai/onnxruntime/native/linux-x64/libonnxruntime4j_jni.so");
    static final NativePlatform LINUX_ARM64 = new NativePlatform("linux-arm64",
            List.of("org/bytedeco/onnxruntime/linux-arm64/"),
            "ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so");

    /** The platform of this JVM. */
    static NativePlatform current() {
        return of(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    /**
     * The platform for an operating system and architecture as the JVM names them.
     *
     * @throws RuntimeSetupException for anything but Linux on x86-64 or arm64
     */
    static NativePlatform of(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        if (os.contains("linux")) {
            if (arch.equals("amd64") || arch.equals("x86_64")) {
                return LINUX_X86_64;
            }
            if (arch.equals("aarch64") || arch.equals("arm64")) {
                return LINUX_ARM64;
            }
        }
        throw new RuntimeSetupException("no bundled ONNX Runtime for " + osName + " on " + osArch
                + ": expected Linux on amd64 (x86_64) or aarch64 (arm64)",
                "run on Linux x86-64 or arm64, or set microkernel.runtime.native-library to a training-enabled"
                        + " libonnxruntime.so of ONNX Runtime " + OrtRuntime.expectedVersion() + " for this platform");
    }
}

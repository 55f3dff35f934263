package io.microkernel.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * Points the official ONNX Runtime Java API at a training-enabled native library.
 *
 * <p>The Maven Central natives of {@code com.microsoft.onnxruntime} are built without the
 * training API. The JavaCPP build of the same ORT version has it; its libraries travel inside
 * the {@code org.bytedeco:onnxruntime} classifier jar. This class extracts them into one folder
 * (provider libraries must sit next to the core library) and sets
 * {@code onnxruntime.native.onnxruntime.path} before any {@code ai.onnxruntime} class is loaded.
 *
 * <p>Thread-safe; the first call wins and later calls return the same folder.
 */
public final class NativeLibrary {

    /** The system property the official Java API reads to find its core library. */
    public static final String ORT_PATH_PROPERTY = "onnxruntime.native.onnxruntime.path";

    static final String CORE_LIBRARY = "libonnxruntime.so.1";
    private static final List<String> RESOURCE_FOLDERS = List.of(
            "org/bytedeco/onnxruntime/linux-x86_64-gpu/",
            "org/bytedeco/onnxruntime/linux-x86_64/");
    private static final List<String> COMPANION_LIBRARIES = List.of(
            "libonnxruntime_providers_shared.so",
            "libonnxruntime_providers_cuda.so",
            "libonnxruntime_providers_dnnl.so");

    private static Path loadedFrom;

    private NativeLibrary() {
    }

    /**
     * Selects the native library, once per JVM.
     *
     * @param userLibrary a user's own {@code libonnxruntime.so} (training-enabled); empty to use
     *                    the one bundled in the classpath
     * @return the path of the core library the Java API will load
     * @throws RuntimeSetupException when no library can be found or extracted
     */
    public static synchronized Path select(Optional<Path> userLibrary) {
        if (loadedFrom != null) {
            return loadedFrom;
        }
        Path library = userLibrary.map(NativeLibrary::existingUserLibrary).orElseGet(NativeLibrary::extractBundled);
        System.setProperty(ORT_PATH_PROPERTY, library.toString());
        loadedFrom = library;
        return library;
    }

    /** The library chosen by {@link #select}, if any. */
    public static synchronized Optional<Path> selected() {
        return Optional.ofNullable(loadedFrom);
    }

    /**
     * The absolute path of a user's library, checked to be a file. Apart from {@link #select} so
     * the check can be exercised in a JVM whose native library is already chosen.
     */
    static Path existingUserLibrary(Path userLibrary) {
        Path library = userLibrary.toAbsolutePath();
        if (!Files.isRegularFile(library)) {
            throw new RuntimeSetupException("native library " + library + " does not exist",
                    "set microkernel.runtime.native-library to a training-enabled libonnxruntime.so, or unset it to use the bundled one");
        }
        return library;
    }

    private static Path extractBundled() {
        ClassLoader loader = NativeLibrary.class.getClassLoader();
        for (String folder : RESOURCE_FOLDERS) {
            if (loader.getResource(folder + CORE_LIBRARY) == null) {
                continue;
            }
            try {
                Path target = Files.createTempDirectory("microkernel-ort-");
                target.toFile().deleteOnExit();
                copy(loader, folder + CORE_LIBRARY, target.resolve(CORE_LIBRARY));
                for (String companion : COMPANION_LIBRARIES) {
                    if (loader.getResource(folder + companion) != null) {
                        copy(loader, folder + companion, target.resolve(companion));
                    }
                }
                return target.resolve(CORE_LIBRARY);
            } catch (IOException e) {
                throw new RuntimeSetupException("cannot extract the bundled ONNX Runtime library: " + e.getMessage(),
                        "make the temp folder (java.io.tmpdir) writable and executable");
            }
        }
        throw new RuntimeSetupException("no training-enabled ONNX Runtime library on the classpath",
                "add org.bytedeco:onnxruntime:<version>:linux-x86_64 (or -gpu), or set microkernel.runtime.native-library");
    }

    private static void copy(ClassLoader loader, String resource, Path target) throws IOException {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        target.toFile().deleteOnExit();
    }
}

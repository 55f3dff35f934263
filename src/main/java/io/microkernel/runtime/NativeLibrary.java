package io.microkernel.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Points the official ONNX Runtime Java API at a training-enabled native library.
 *
 * <p>The Maven Central natives of {@code com.microsoft.onnxruntime} are built without the
 * training API. The JavaCPP build of the same ORT version has it; its libraries travel inside
 * the {@code org.bytedeco:onnxruntime} classifier jars (x86-64 and arm64; {@link NativePlatform}
 * picks by {@code os.arch}). This class puts the platform's libraries, with ORT Java's own JNI
 * library, in one folder (provider libraries must sit next to the core library) and sets
 * {@code onnxruntime.native.onnxruntime.path} and {@code onnxruntime.native.onnxruntime4j_jni.path}
 * before any {@code ai.onnxruntime} class is loaded.
 *
 * <p>The folder is {@code <java.io.tmpdir>/onnx-microkernel-natives-<user>/ort-<version>-<platform>-<key>}
 * and outlives the process: a later start reuses it when every file still matches the jar
 * ({@link NativeCache}), so a restart does not write 40 MB again. When that folder cannot be used
 * (another user owns it, say), the libraries go to a fresh temp folder as they would without it.
 *
 * <p>Thread-safe; the first call wins and later calls return the same library.
 */
public final class NativeLibrary {

    /** The system property the official Java API reads to find its core library. */
    public static final String ORT_PATH_PROPERTY = "onnxruntime.native.onnxruntime.path";
    /** The system property the official Java API reads to find its JNI library. */
    static final String JNI_PATH_PROPERTY = "onnxruntime.native.onnxruntime4j_jni.path";

    static final String CORE_LIBRARY = "libonnxruntime.so.1";
    static final String JNI_LIBRARY = "libonnxruntime4j_jni.so";
    private static final List<String> COMPANION_LIBRARIES = List.of(
            "libonnxruntime_providers_shared.so",
            "libonnxruntime_providers_cuda.so",
            "libonnxruntime_providers_dnnl.so");
    private static final Logger LOG = Logger.getLogger(NativeLibrary.class);

    private static Path loadedFrom;
    private static boolean reused;

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

    /** Whether {@link #select} found the bundled libraries already extracted and intact. */
    public static synchronized boolean reusedExtraction() {
        return reused;
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

    /** The bundled libraries of {@code platform} (core first, then companions, then the JNI library). */
    static List<NativeCache.Bundled> bundled(ClassLoader loader, NativePlatform platform) throws IOException {
        for (String folder : platform.coreFolders()) {
            if (loader.getResource(folder + CORE_LIBRARY) == null) {
                continue;
            }
            List<String> resources = new ArrayList<>();
            resources.add(folder + CORE_LIBRARY);
            COMPANION_LIBRARIES.forEach(companion -> resources.add(folder + companion));
            resources.add(platform.jniResource());
            return NativeCache.describe(loader, resources);
        }
        throw new RuntimeSetupException("no training-enabled ONNX Runtime library for " + platform.name() + " on the classpath",
                "add org.bytedeco:onnxruntime:<version>:" + platform.name() + ", or set microkernel.runtime.native-library");
    }

    /** The per-user folder under {@code java.io.tmpdir} that keeps extracted libraries between starts. */
    static Path cacheRoot() {
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        return Path.of(System.getProperty("java.io.tmpdir"), "onnx-microkernel-natives-" + user);
    }

    private static Path extractBundled() {
        ClassLoader loader = NativeLibrary.class.getClassLoader();
        NativePlatform platform = NativePlatform.current();
        try {
            List<NativeCache.Bundled> libraries = bundled(loader, platform);
            String prefix = "ort-" + OrtRuntime.expectedVersion() + "-" + platform.name();
            Path folder;
            if (loader != ClassLoader.getSystemClassLoader()) {
                // A class loader beside the application's (Quarkus tests, dev mode) may share this JVM with
                // one that loaded the kept copy; the JVM refuses one library file in two class loaders.
                return useFolder(extractForThisProcess(loader, libraries), libraries);
            }
            try {
                NativeCache.Materialized materialized = new NativeCache(cacheRoot()).materialize(loader, prefix, libraries);
                folder = materialized.folder();
                reused = materialized.reused();
            } catch (IOException e) {
                LOG.warnf("cannot keep the native libraries in %s (%s); extracting them for this process only",
                        cacheRoot(), e.getMessage());
                folder = extractForThisProcess(loader, libraries);
            }
            return useFolder(folder, libraries);
        } catch (IOException e) {
            throw new RuntimeSetupException("cannot extract the bundled ONNX Runtime library: " + e.getMessage(),
                    "make the temp folder (java.io.tmpdir) writable and executable");
        }
    }

    private static Path useFolder(Path folder, List<NativeCache.Bundled> libraries) {
        if (libraries.stream().anyMatch(l -> l.fileName().equals(JNI_LIBRARY))) {
            System.setProperty(JNI_PATH_PROPERTY, folder.resolve(JNI_LIBRARY).toString());
        }
        return folder.resolve(CORE_LIBRARY);
    }

    private static Path extractForThisProcess(ClassLoader loader, List<NativeCache.Bundled> libraries) throws IOException {
        Path target = Files.createTempDirectory("microkernel-ort-");
        target.toFile().deleteOnExit();
        for (NativeCache.Bundled library : libraries) {
            Path file = target.resolve(library.fileName());
            try (InputStream in = loader.getResourceAsStream(library.resource())) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            file.toFile().deleteOnExit();
        }
        return target;
    }
}

package io.microkernel.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The one {@link OrtEnvironment} of the process, created from a training-enabled native library.
 *
 * <p>Started once per process by its owner: in the server, the CDI producer
 * {@code serving.ServingBeans#ortRuntime}, which every bean that needs the environment is injected with;
 * in the command-line tools and plain unit tests, an explicit {@link #start(Optional)} or {@link #bundled()}
 * whose result is passed on as an argument. Nothing looks it up from a static on its own
 * ({@code ArchitectureTest.theServerTakesOnnxRuntimeFromCdi}). The environment is never closed: ORT keeps it for
 * the life of the process. ORT's own shutdown hook, which would release it while rounds and requests
 * still use it, is removed at start ({@link OrtShutdownHook}); the application stops its rounds and
 * sessions on shutdown and the environment goes with the process.
 */
public final class OrtRuntime {

    private static volatile OrtRuntime instance;

    private final OrtEnvironment environment;
    private final Path library;

    private OrtRuntime(OrtEnvironment environment, Path library) {
        this.environment = environment;
        this.library = library;
    }

    /**
     * Loads the native library and checks it: same version as the Java API, training available.
     *
     * @throws RuntimeSetupException with cause and remedy when any check fails
     */
    public static synchronized OrtRuntime start(Optional<Path> userLibrary) {
        if (instance != null) {
            return instance;
        }
        long started = System.nanoTime();
        Path library = NativeLibrary.select(userLibrary);
        StartupTimeline.since(NativeLibrary.reusedExtraction() ? "native library (kept copy checked)"
                : "native library (extracted)", started);
        OrtEnvironment env;
        try {
            env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "microkernel");
            StartupTimeline.sinceMark("ONNX Runtime load and environment");
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError e) {
            throw new RuntimeSetupException("cannot load ONNX Runtime from " + library + ": " + e.getMessage(),
                    "use a native library of ONNX Runtime " + expectedVersion() + " for " + System.getProperty("os.arch"));
        }
        String found = env.getVersion();
        if (!expectedVersion().equals(found)) {
            throw new RuntimeSetupException("native ONNX Runtime " + found + " at " + library
                    + " does not match the Java API " + expectedVersion(),
                    "use a native library of ONNX Runtime " + expectedVersion());
        }
        if (!env.isTrainingEnabled()) {
            throw new RuntimeSetupException("native ONNX Runtime at " + library + " was built without the training API",
                    "use the JavaCPP build (org.bytedeco:onnxruntime) or an ORT build with --enable_training_apis");
        }
        int removed = OrtShutdownHook.remove();
        if (removed > 0) {
            Logger.getLogger(OrtRuntime.class).debugf("removed %d ONNX Runtime shutdown hook(s)", removed);
        }
        instance = new OrtRuntime(env, library);
        return instance;
    }

    /** For the tools and tests: {@link #start(Optional)} with the library bundled in the application. */
    public static OrtRuntime bundled() {
        return start(Optional.empty());
    }

    /** The ORT version the Java API on the classpath was built for, recorded at build time. */
    public static String expectedVersion() {
        try (var in = OrtRuntime.class.getResourceAsStream("ort-version.properties")) {
            if (in == null) {
                throw new RuntimeSetupException("ort-version.properties is missing from the application",
                        "build the application with ./mvnw package");
            }
            var properties = new java.util.Properties();
            properties.load(in);
            return properties.getProperty("onnxruntime.version");
        } catch (java.io.IOException e) {
            throw new RuntimeSetupException("cannot read ort-version.properties: " + e.getMessage(),
                    "build the application with ./mvnw package");
        }
    }

    public OrtEnvironment environment() {
        return environment;
    }

    /** The version the loaded native library reports. */
    public String nativeVersion() {
        return environment.getVersion();
    }

    public Path library() {
        return library;
    }

    /** Execution providers the loaded native library offers. */
    public EnumSet<ai.onnxruntime.OrtProvider> providers() {
        return OrtEnvironment.getAvailableProviders();
    }

    /** Wraps checked ORT failures at start-up. */
    static RuntimeSetupException wrap(OrtException e, String remedy) {
        return new RuntimeSetupException(e.getMessage(), remedy);
    }
}

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
    /** What {@link #startEarly} failed with, thrown again to the owner's {@link #start}; guarded by the class. */
    private static RuntimeException earlyFailure;
    /** Whether the owner's first call after the early start recorded how long it waited; guarded by the class. */
    private static boolean earlyWaitRecorded;

    private final OrtEnvironment environment;
    private final Path library;
    /** Started by {@link #startEarly}. */
    private final boolean early;

    private OrtRuntime(OrtEnvironment environment, Path library, boolean early) {
        this.environment = environment;
        this.library = library;
        this.early = early;
    }

    /**
     * For the server, before Quarkus boots: starts the bundled library on a background thread, so the
     * native library and the environment are ready (or nearly) when the CDI producer asks for them; its
     * {@link #start} then returns this result or waits for it. Skipped when a configuration source
     * outside the jar may name another library ({@link EarlyStart}). A failure is kept and thrown to the
     * producer's call, which reports it as before. Costs nothing when the runtime would not start anyway.
     */
    public static void startEarly() {
        if (!EarlyStart.allowed(System.getenv(), System.getProperties(), Path.of(""))) {
            return;
        }
        Thread thread = new Thread(() -> {
            synchronized (OrtRuntime.class) {
                try {
                    start(Optional.empty(), true);
                } catch (RuntimeException e) {
                    earlyFailure = e;
                } catch (LinkageError e) {
                    earlyFailure = new RuntimeSetupException("cannot load ONNX Runtime: " + e,
                            "use a native library of ONNX Runtime " + expectedVersion() + " for " + System.getProperty("os.arch"));
                }
            }
        }, "ort-early-start");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Loads the native library and checks it: same version as the Java API, training available. After
     * {@link #startEarly}, returns its result (waiting for it when it is still running).
     *
     * @throws RuntimeSetupException with cause and remedy when any check fails, or when the runtime
     *                               was started early from the bundled library and {@code userLibrary}
     *                               names another
     */
    public static OrtRuntime start(Optional<Path> userLibrary) {
        long asked = System.nanoTime();
        synchronized (OrtRuntime.class) {
            if (instance == null && earlyFailure != null) {
                throw earlyFailure;
            }
            if (instance != null && instance.early) {
                if (userLibrary.isPresent() && !userLibrary.get().toAbsolutePath().equals(instance.library)) {
                    throw new RuntimeSetupException("ONNX Runtime was loaded from " + instance.library
                            + " before the configuration named " + userLibrary.get(), "name the library in a system"
                            + " property, the environment, ./config/application.properties or ./.env");
                }
                if (!earlyWaitRecorded) {
                    earlyWaitRecorded = true;
                    StartupTimeline.since("waiting for ONNX Runtime's early start", asked);
                }
                return instance;
            }
            return start(userLibrary, false);
        }
    }

    /**
     * @param early whether this is {@link #startEarly}'s thread: its phases run beside the boot, so they
     *              are recorded without moving the timeline's mark
     */
    private static synchronized OrtRuntime start(Optional<Path> userLibrary, boolean early) {
        if (instance != null) {
            return instance;
        }
        String beside = early ? ", beside Quarkus's boot" : "";
        long started = System.nanoTime();
        Path library = NativeLibrary.select(userLibrary);
        phase("native library (" + (NativeLibrary.reusedExtraction() ? "kept copy checked" : "extracted") + beside + ")",
                started, early);
        OrtEnvironment env;
        try {
            long loading = System.nanoTime();
            env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "microkernel");
            phase("ONNX Runtime load and environment" + (early ? " (beside Quarkus's boot)" : ""), loading, early);
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
        instance = new OrtRuntime(env, library, early);
        return instance;
    }

    private static void phase(String name, long startedNanos, boolean early) {
        if (early) {
            StartupTimeline.alongside(name, startedNanos);
        } else {
            StartupTimeline.since(name, startedNanos);
        }
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

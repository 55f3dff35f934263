package io.microkernel.serving;

import io.microkernel.config.ConfigurationCheck;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.problem.ConfigurationException;
import io.microkernel.problem.ProblemException;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.runtime.RuntimeSetupException;
import io.microkernel.runtime.StartupTimeline;
import io.microkernel.store.DataDirLockedException;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.nio.file.Files;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Start-up order: the ONNX Runtime native library, then the store (recover, or bootstrap version 1
 * from {@code microkernel.model.artifacts}), then the served model. A broken runtime or store stops
 * the process with one log line naming cause and remedy; a store with nothing to serve keeps the
 * process up but not ready, so probes and the log say why, and start-up tries again with backoff
 * (a full disk freed, artifacts mounted late) until a version is served.
 */
@ApplicationScoped
public class ModelStartup {

    private static final Logger LOG = Logger.getLogger(ModelStartup.class);
    static final long MAX_BACKOFF_SECONDS = 30;

    @Inject
    MicrokernelConfig config;

    @Inject
    ConfigurationCheck configuration;

    @Inject
    Instance<ModelStore> store;

    @Inject
    Instance<ServedModel> served;

    @Inject
    Instance<OrtRuntime> runtime;

    /** Start-up attempts after the first; one daemon thread, idle unless start-up failed. */
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "model-startup-retry");
        thread.setDaemon(true);
        return thread;
    });

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 10) StartupEvent event) {
        if (!configuration.passed()) {
            return;
        }
        StartupTimeline.sinceMark("Quarkus boot up to the model's start-up");
        try {
            OrtRuntime started = runtime.get();
            LOG.infof("ONNX Runtime %s (training enabled) from %s", started.environment().getVersion(), started.library());
        } catch (RuntimeException e) {
            RuntimeSetupException setup = setupFailure(e);
            if (setup == null) {
                throw e;
            }
            LOG.error("cannot start ONNX Runtime: " + setup.getMessage());
            Quarkus.asyncExit(1);
            return;
        }
        ModelStore modelStore;
        long storeStarted = System.nanoTime();
        try {
            modelStore = store.get();
            StartupTimeline.since("model store", storeStarted);
        } catch (DataDirLockedException e) {
            LOG.error(e.getMessage());
            Quarkus.asyncExit(1);
            return;
        } catch (ConfigurationException e) {
            LOG.error("invalid configuration: " + e.getMessage());
            Quarkus.asyncExit(1);
            return;
        } catch (ProblemException e) {
            LOG.error("cannot open the model store: " + e.getMessage()
                    + "; remedy: point microkernel.data-dir at a writable folder");
            Quarkus.asyncExit(1);
            return;
        }
        serveOrRetry(modelStore, 1);
    }

    /**
     * One attempt to bootstrap (when the store is empty) and serve. A failure (a full disk, artifacts
     * not there or unreadable yet) is recorded on the served model, so readiness says why, and the
     * next attempt is scheduled with a doubling delay of at most {@value #MAX_BACKOFF_SECONDS} s.
     */
    private void serveOrRetry(ModelStore modelStore, int attempt) {
        Optional<String> problem;
        try {
            problem = tryServe(modelStore);
        } catch (RuntimeException e) {
            problem = Optional.of(String.valueOf(e.getMessage()));
        }
        if (problem.isEmpty()) {
            return;
        }
        long delay = Math.min(MAX_BACKOFF_SECONDS, 1L << Math.min(attempt - 1, 10));
        String reason = problem.get() + " (attempt " + attempt + ", next in " + delay + " s)";
        LOG.error("no model to serve: " + reason);
        synchronized (this) {
            if (retries.isShutdown()) {
                return;
            }
            served.get().notReady(reason);
            retries.schedule(() -> serveOrRetry(modelStore, attempt + 1), delay, TimeUnit.SECONDS);
        }
    }

    /** Empty when a version is served now, else why not. */
    private Optional<String> tryServe(ModelStore modelStore) {
        if (modelStore.isEmpty()) {
            long started = System.nanoTime();
            Optional<String> failed = bootstrap(modelStore);
            if (failed.isPresent()) {
                return failed;
            }
            StartupTimeline.since("bootstrap from the artifact set", started);
        }
        try {
            long started = System.nanoTime();
            ModelVersion version = served.get().start();
            StartupTimeline.since("model load and warm-up", started);
            LOG.infof("model '%s' ready: version %d", config.model().name(), version.version());
            StartupTimeline.logSummary("model ready");
            return Optional.empty();
        } catch (ModelNotReadyException | ModelLoadException e) {
            return Optional.of(e.getMessage());
        }
    }

    private Optional<String> bootstrap(ModelStore modelStore) {
        java.nio.file.Path artifacts = config.model().artifacts();
        if (!Files.isDirectory(artifacts)) {
            return Optional.of("the store " + modelStore.root() + " is empty and microkernel.model.artifacts="
                    + artifacts.toAbsolutePath() + " is not a folder; remedy: point microkernel.model.artifacts at an"
                    + " artifact set");
        }
        try {
            ModelVersion first = ArtifactBootstrap.bootstrap(modelStore, artifacts, runtime.get().environment());
            LOG.infof("bootstrapped version %d of '%s' from %s", first.version(), config.model().name(), artifacts);
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of("cannot bootstrap from " + artifacts + ": " + e.getMessage());
        }
    }

    @PreDestroy
    synchronized void stopRetrying() {
        retries.shutdownNow();
    }

    /** The runtime's set-up failure behind {@code e} (CDI may wrap what the producer threw), or null. */
    private static RuntimeSetupException setupFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RuntimeSetupException setup) {
                return setup;
            }
        }
        return null;
    }
}

package io.microkernel.serving;

import io.microkernel.config.ConfigurationCheck;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.problem.ConfigurationException;
import io.microkernel.problem.ProblemException;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.runtime.RuntimeSetupException;
import io.microkernel.store.DataDirLockedException;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.nio.file.Files;
import org.jboss.logging.Logger;

/**
 * Start-up order: the ONNX Runtime native library, then the store (recover, or bootstrap version 1
 * from {@code microkernel.model.artifacts}), then the served model. A broken runtime or store stops
 * the process with one log line naming cause and remedy; a store with nothing to serve keeps the
 * process up but not ready, so probes and the log say why.
 */
@ApplicationScoped
public class ModelStartup {

    private static final Logger LOG = Logger.getLogger(ModelStartup.class);

    @Inject
    MicrokernelConfig config;

    @Inject
    ConfigurationCheck configuration;

    @Inject
    Instance<ModelStore> store;

    @Inject
    Instance<ServedModel> served;

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 10) StartupEvent event) {
        if (!configuration.passed()) {
            return;
        }
        try {
            OrtRuntime runtime = OrtRuntime.start(config.runtime().nativeLibrary());
            LOG.infof("ONNX Runtime %s (training enabled) from %s", runtime.environment().getVersion(), runtime.library());
        } catch (RuntimeSetupException e) {
            LOG.error("cannot start ONNX Runtime: " + e.getMessage());
            Quarkus.asyncExit(1);
            return;
        }
        ModelStore modelStore;
        try {
            modelStore = store.get();
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
        if (modelStore.isEmpty() && !bootstrap(modelStore)) {
            return;
        }
        try {
            ModelVersion version = served.get().start();
            LOG.infof("model '%s' ready: version %d", config.model().name(), version.version());
        } catch (ModelNotReadyException | ModelLoadException e) {
            LOG.error("no model to serve: " + e.getMessage());
        }
    }

    private boolean bootstrap(ModelStore modelStore) {
        java.nio.file.Path artifacts = config.model().artifacts();
        if (!Files.isDirectory(artifacts)) {
            LOG.errorf("no model to serve: the store %s is empty and microkernel.model.artifacts=%s is not a folder;"
                    + " remedy: point microkernel.model.artifacts at an artifact set", modelStore.root(), artifacts.toAbsolutePath());
            return false;
        }
        try {
            ModelVersion first = ArtifactBootstrap.bootstrap(modelStore, artifacts, OrtRuntime.get().environment());
            LOG.infof("bootstrapped version %d of '%s' from %s", first.version(), config.model().name(), artifacts);
            return true;
        } catch (RuntimeException e) {
            LOG.error("no model to serve: cannot bootstrap from " + artifacts + ": " + e.getMessage());
            return false;
        }
    }
}

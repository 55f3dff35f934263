package io.microkernel.serving;

import io.microkernel.tensor.BufferPool;
import io.micrometer.core.instrument.MeterRegistry;
import io.microkernel.config.ConfigurationCheck;
import io.microkernel.config.MicrokernelConfig;
import io.microkernel.problem.ConfigurationException;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.DataDirLock;
import io.microkernel.store.ModelStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Provider;
import jakarta.inject.Singleton;
import java.nio.file.Path;

/** Builds the store and the served model from configuration; one of each per process. */
@ApplicationScoped
public class ServingBeans {

    /**
     * The process's ONNX Runtime, started from {@code microkernel.runtime.native-library} the first time a
     * bean asks for it ({@link ModelStartup} does, first of all, and stops the process when it fails).
     */
    @Produces
    @Singleton
    OrtRuntime ortRuntime(MicrokernelConfig config) {
        return OrtRuntime.start(config.runtime().nativeLibrary());
    }

    @Produces
    @Singleton
    ModelStore modelStore(MicrokernelConfig config, DataDirLock lock) {
        return ModelStore.open(modelRoot(config), config.store().retain());
    }

    /** Held from before the store opens until the application stops: one process per data dir. */
    @Produces
    @Singleton
    DataDirLock dataDirLock(MicrokernelConfig config) {
        return DataDirLock.acquire(config.dataDir());
    }

    void releaseDataDir(@Disposes DataDirLock lock) {
        lock.close();
    }

    @Produces
    @Singleton
    RequestTranslator requestTranslator(MicrokernelConfig config) {
        return new RequestTranslator(config.serving().maxBatch());
    }

    @Produces
    @Singleton
    ServedModel servedModel(MicrokernelConfig config, ModelStore store, MeterRegistry registry,
            Provider<OrtRuntime> runtime, BufferPool buffers) {
        MicrokernelConfig.Serving serving = config.serving();
        SessionSettings settings = new SessionSettings(serving.intraOpThreads(), serving.interOpThreads(),
                Device.parse(config.device()), config.deviceId(), config.memory().cpuArena(), config.memory().memoryPattern());
        // Outputs are copied into pooled buffers; the inference endpoints give them back once they have built their answer.
        ModelLoader loader = new ModelLoader(() -> runtime.get().environment(), settings, buffers);
        MicrokernelConfig.Serving.Batching batching = serving.batching();
        BatchingSettings batchingSettings = BatchingSettings.of(batching.enabled(), batching.maxRows(),
                batching.maxQueueDelay(), batching.concurrentRuns(), serving.intraOpThreads());
        return new ServedModel(config.model().name(), store, loader, new ServingMetrics(registry, config.model().name()),
                batchingSettings);
    }

    void closeServedModel(@Disposes ServedModel served) {
        served.close();
    }

    /** {@code {data-dir}/models/{name}}; the name becomes a folder, so it must be a plain one. */
    static Path modelRoot(MicrokernelConfig config) {
        String name = config.model().name();
        if (!name.matches(ConfigurationCheck.MODEL_NAME_PATTERN)) {
            throw new ConfigurationException("microkernel.model.name", "letters, digits, '.', '_' or '-'", "'" + name + "'");
        }
        return config.dataDir().resolve("models").resolve(name);
    }
}

package io.microkernel.api;

import io.microkernel.store.ModelStore;
import io.microkernel.testing.StoreFixtures;
import io.microkernel.testing.TestModels;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A data dir whose store holds: 1 (answers "cat"), 2 ("dog"), 3 ("bird"), 4 (INT32/INT64/FP64/BOOL
 * inputs), 5 (two FP32 inputs), 6 (FP16/INT8/INT16/UINT8 inputs), 7 (a BYTES input, BYTES and FP32
 * outputs: {@code TestModels.strings()}), 8 (a BF16 input: {@code TestModels.bfloat16()}); version 1 active. Made through the store itself before the
 * application starts, so start-up exercises recovery.
 */
public class StoreResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        try {
            Path dataDir = Files.createTempDirectory("microkernel-api-test");
            Path root = dataDir.resolve("models").resolve("default");
            ModelStore store = StoreFixtures.bootstrapped(root, 8, StoreFixtures.classifierFavouring(0));
            StoreFixtures.publish(store, dataDir, StoreFixtures.classifierFavouring(1), 1, "round-2");
            StoreFixtures.publish(store, dataDir, StoreFixtures.classifierFavouring(2), 2, "round-3");
            StoreFixtures.publish(store, dataDir, TestModels.typed(), 3, "round-4");
            StoreFixtures.publish(store, dataDir, TestModels.twoInputs(), 4, "round-5");
            StoreFixtures.publish(store, dataDir, TestModels.narrowTypes(), 5, "round-6");
            StoreFixtures.publish(store, dataDir, TestModels.strings(), 6, "round-7");
            StoreFixtures.publish(store, dataDir, TestModels.bfloat16(), 7, "round-8");
            return Map.of("microkernel.data-dir", dataDir.toString(),
                    "microkernel.model.artifacts", dataDir.resolve("no-artifacts").toString(),
                    "microkernel.serving.max-batch", "8",
                    "microkernel.store.retain", "8");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        // The temp folder is left for inspection; it is small.
    }
}

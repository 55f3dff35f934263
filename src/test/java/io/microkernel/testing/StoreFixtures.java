package io.microkernel.testing;

import ai.onnx.proto.OnnxMl;
import io.microkernel.store.Lineage;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Stores filled with tiny models, made through the store's own bootstrap and publish. */
public final class StoreFixtures {

    public static final List<String> CLASSES = List.of("cat", "dog", "bird");

    private StoreFixtures() {
    }

    /** A classifier whose every answer is class {@code winner}, so an answer shows which version gave it. */
    public static OnnxMl.ModelProto classifierFavouring(int winner) {
        float[] bias = new float[CLASSES.size()];
        bias[winner] = 3f;
        return TestModels.classifier(4, bias);
    }

    /**
     * Bootstraps version 1 from a stand-in artifact folder; its inference model is the given one.
     * The checkpoint is opaque to the store and to serving, so any bytes do.
     */
    public static ModelStore bootstrapped(Path root, int retain, OnnxMl.ModelProto first) throws IOException {
        Path artifacts = Files.createDirectories(root.resolveSibling(root.getFileName() + "-artifacts"));
        Files.write(artifacts.resolve("checkpoint"), new byte[] {1, 2, 3});
        Files.write(artifacts.resolve("training_model.onnx"), first.toByteArray());
        ModelStore store = ModelStore.open(root, retain);
        store.bootstrap(artifacts, CLASSES, "probabilities", (checkpoint, target) -> TestModels.write(first, target));
        return store;
    }

    public static ModelVersion publish(ModelStore store, Path scratch, OnnxMl.ModelProto model, int parent, String round)
            throws IOException {
        Path candidate = TestModels.candidate(Files.createTempDirectory(scratch, "candidate"), model);
        return store.publish(candidate, Lineage.fromRound(parent, round, 40, Map.of("accuracy", 0.9, "loss", 0.25)));
    }
}

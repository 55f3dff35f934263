package io.microkernel.training;

import io.microkernel.artifacts.ArtifactBuilder;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.TinyModels;
import io.microkernel.runtime.OrtRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

/** A tiny classifier artifact set (frozen random backbone, trainable head) and labelled data for it. */
final class TrainingFixtures {

    static final List<String> CLASSES = List.of("a", "b", "c");

    private TrainingFixtures() {
    }

    /** Builds the artifact set under {@code dir}/set. */
    static ArtifactSet classifierSet(Path dir) {
        return ArtifactBuilder.fromModel(TinyModels.classifier(1))
                .trainablePattern(Pattern.compile("head\\..*"))
                .classNames(CLASSES)
                .build(dir.resolve("set"));
    }

    /** A version folder (checkpoint and inference model) made from the set's own checkpoint. */
    static TrainingRound.Base baseVersion(ArtifactSet set, Path dir) throws Exception {
        Path version = Files.createDirectories(dir.resolve("v1"));
        Files.copy(set.checkpoint(), version.resolve("checkpoint"));
        set.exportInference(OrtRuntime.get().environment(), version.resolve("checkpoint"), version.resolve("inference.onnx"));
        return new TrainingRound.Base(1, version.resolve("checkpoint"), version.resolve("inference.onnx"),
                set.description().inferenceOutput());
    }

    /**
     * Samples whose class is the largest of the first three features, or a random class when
     * {@code shuffled}.
     */
    static List<LabelledInput> samples(int n, long seed, boolean shuffled) {
        float[][] x = TinyModels.dataset(n, 4, seed);
        long[] y = TinyModels.labels(x);
        Random random = new Random(seed ^ 0x5DEECE66DL);
        List<LabelledInput> samples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int label = shuffled ? random.nextInt(CLASSES.size()) : (int) y[i];
            samples.add(new LabelledInput(Map.of("input", SampleTensor.ofFloats(new long[] {4}, x[i])),
                    new SampleLabel.ClassIndex(label)));
        }
        return samples;
    }
}

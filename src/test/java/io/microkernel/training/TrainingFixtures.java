package io.microkernel.training;

import io.microkernel.tensor.Tensor;
import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.testing.TinyModels;
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
                .build(OrtRuntime.bundled().environment(), dir.resolve("set"));
    }

    /**
     * A regression set: {@code input [N,4]} through a frozen Gemm+Tanh backbone into a trainable Gemm
     * head {@code value [N,1]}, trained with MSE.
     */
    static ArtifactSet regressionSet(Path dir) {
        var model = new TinyModels.Graph("regressor", 3)
                .input("input", io.microkernel.artifacts.Onnx.FLOAT, -1, 4)
                .weight("backbone.w", 0.8, 4, 8).weight("backbone.b", 0.1, 8)
                .weight("head.weight", 0.3, 1, 8).weight("head.bias", 0.1, 1)
                .node("Gemm", List.of("input", "backbone.w", "backbone.b"), List.of("h"))
                .node("Tanh", List.of("h"), List.of("features"))
                .node("Gemm", List.of("features", "head.weight", "head.bias"), List.of("value"),
                        io.microkernel.artifacts.Onnx.attr("transB", 1L))
                .output("value", io.microkernel.artifacts.Onnx.FLOAT, -1, 1)
                .build();
        return ArtifactBuilder.fromModel(model)
                .trainablePattern(Pattern.compile("head\\..*"))
                .loss(io.microkernel.artifacts.LossKind.MSE)
                .build(OrtRuntime.bundled().environment(), dir.resolve("regression-set"));
    }

    /** {@link TinyModels#twoInputClassifier()} as an artifact set: the training graph takes its inputs in order. */
    static ArtifactSet twoInputSet(Path dir) {
        return ArtifactBuilder.fromModel(TinyModels.twoInputClassifier())
                .trainablePattern(Pattern.compile("head\\..*"))
                .classNames(CLASSES)
                .build(OrtRuntime.bundled().environment(), dir.resolve("two-input-set"));
    }

    /** The classifier data split over two inputs: the first two features left, the last two right. */
    static List<LabelledInput> twoInputSamples(int n, long seed) {
        float[][] x = TinyModels.dataset(n, 4, seed);
        long[] y = TinyModels.labels(x);
        List<LabelledInput> samples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Map<String, Tensor> inputs = new java.util.LinkedHashMap<>();
            // Deliberately the reverse of the graph's order: the round must feed ORT by the graph's order.
            inputs.put("right", Tensor.ofFloats(new long[] {2}, new float[] {x[i][2], x[i][3]}));
            inputs.put("left", Tensor.ofFloats(new long[] {2}, new float[] {x[i][0], x[i][1]}));
            samples.add(new LabelledInput(inputs, new SampleLabel.ClassIndex((int) y[i])));
        }
        return samples;
    }

    /** Samples whose target is a fixed smooth function of the features. */
    static List<LabelledInput> regressionSamples(int n, long seed) {
        float[][] x = TinyModels.dataset(n, 4, seed);
        List<LabelledInput> samples = new ArrayList<>(n);
        for (float[] row : x) {
            float target = (float) (0.8 * Math.tanh(row[0]) - 0.5 * Math.tanh(row[1]) + 0.3);
            samples.add(new LabelledInput(Map.of("input", Tensor.ofFloats(new long[] {4}, row)),
                    new SampleLabel.Target(new long[] {1}, new float[] {target})));
        }
        return samples;
    }

    /** A version folder (checkpoint and inference model) made from the set's own checkpoint. */
    static TrainingRound.Base baseVersion(ArtifactSet set, Path dir) throws Exception {
        Path version = Files.createDirectories(dir.resolve("v1"));
        Files.copy(set.checkpoint(), version.resolve("checkpoint"));
        set.exportInference(OrtRuntime.bundled().environment(), version.resolve("checkpoint"), version.resolve("inference.onnx"));
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
            samples.add(new LabelledInput(Map.of("input", Tensor.ofFloats(new long[] {4}, x[i])),
                    new SampleLabel.ClassIndex(label)));
        }
        return samples;
    }
}

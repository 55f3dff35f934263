package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.artifacts.Onnx;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.testing.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

/** Artifact sets and data for rounds with and without the frozen-feature cache. */
final class CachedRoundFixtures {

    /** Largest relative difference (L2 over each parameter) between cached and uncached training. */
    static final double SAME_ANSWER_TOLERANCE = 1e-4;

    private CachedRoundFixtures() {
    }

    /**
     * A trainable part between two frozen parts: {@code input [N,4]} through a frozen Gemm+Tanh, a
     * trainable Gemm+Relu ({@code mid.*}), then a frozen Gemm and Softmax into 3 classes.
     */
    static ArtifactSet sandwichSet(Path dir) {
        var model = new TinyModels.Graph("sandwich", 5)
                .input("input", Onnx.FLOAT, -1, 4)
                .weight("below.w", 0.8, 4, 8).weight("below.b", 0.1, 8)
                .weight("mid.weight", 0.4, 6, 8).weight("mid.bias", 0.1, 6)
                .weight("above.w", 0.5, 6, 3).weight("above.b", 0.1, 3)
                .node("Gemm", List.of("input", "below.w", "below.b"), List.of("below.out"))
                .node("Tanh", List.of("below.out"), List.of("features"))
                .node("Gemm", List.of("features", "mid.weight", "mid.bias"), List.of("mid.out"),
                        Onnx.attr("transB", 1L))
                .node("Relu", List.of("mid.out"), List.of("mid.act"))
                .node("Gemm", List.of("mid.act", "above.w", "above.b"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probabilities"), Onnx.attr("axis", 1L))
                .output("probabilities", Onnx.FLOAT, -1, 3)
                .build();
        return ArtifactBuilder.fromModel(model).trainablePattern(Pattern.compile("mid\\..*"))
                .classNames(TrainingFixtures.CLASSES)
                .build(OrtRuntime.bundled().environment(), dir.resolve("sandwich-set"));
    }

    /** The trainable part reads the user input directly, before any frozen work: nothing to cache. */
    static ArtifactSet trainableFirstSet(Path dir) {
        var model = new TinyModels.Graph("trainable-first", 6)
                .input("input", Onnx.FLOAT, -1, 4)
                .weight("head.weight", 0.4, 8, 4).weight("head.bias", 0.1, 8)
                .weight("top.w", 0.5, 8, 3)
                .node("Gemm", List.of("input", "head.weight", "head.bias"), List.of("h"), Onnx.attr("transB", 1L))
                .node("Tanh", List.of("h"), List.of("t"))
                .node("MatMul", List.of("t", "top.w"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probabilities"), Onnx.attr("axis", 1L))
                .output("probabilities", Onnx.FLOAT, -1, 3)
                .build();
        return ArtifactBuilder.fromModel(model).trainablePattern(Pattern.compile("head\\..*"))
                .classNames(TrainingFixtures.CLASSES)
                .build(OrtRuntime.bundled().environment(), dir.resolve("trainable-first-set"));
    }

    /**
     * A frozen part that mixes the samples of a batch (each input is centred on the batch mean, as
     * attention across the batch would mix them): features cached per sample would be wrong.
     */
    static ArtifactSet batchMixingSet(Path dir) {
        var model = new TinyModels.Graph("batch-mixing", 7)
                .input("input", Onnx.FLOAT, -1, 4)
                .weight("head.weight", 0.4, 3, 4).weight("head.bias", 0.1, 3)
                .node("ReduceMean", List.of("input"), List.of("mean"), Onnx.attr("axes", new long[] {0}),
                        Onnx.attr("keepdims", 1L))
                .node("Sub", List.of("input", "mean"), List.of("centred"))
                .node("Gemm", List.of("centred", "head.weight", "head.bias"), List.of("logits"),
                        Onnx.attr("transB", 1L))
                .node("Softmax", List.of("logits"), List.of("probabilities"), Onnx.attr("axis", 1L))
                .output("probabilities", Onnx.FLOAT, -1, 3)
                .build();
        return ArtifactBuilder.fromModel(model).trainablePattern(Pattern.compile("head\\..*"))
                .classNames(TrainingFixtures.CLASSES)
                .build(OrtRuntime.bundled().environment(), dir.resolve("batch-mixing-set"));
    }

    /** A reduced heavy benchmark model: the same convolutional backbone and head, built once per call. */
    static ArtifactSet heavySet(Path dir) {
        return ArtifactBuilder.fromModel(io.microkernel.bench.HeavyBackboneModel.build(42))
                .trainablePattern(io.microkernel.bench.HeavyBackboneModel.TRAINABLE)
                .loss(LossKind.CROSS_ENTROPY)
                .classNames(io.microkernel.bench.HeavyBackboneModel.CLASS_NAMES)
                .build(OrtRuntime.bundled().environment(), dir.resolve("heavy-set"));
    }

    /** Random inputs of the set's input shapes, with random class labels. */
    static List<LabelledInput> randomSamples(ArtifactSet set, int n, long seed) {
        Random random = new Random(seed);
        int classes = Math.max(2, set.description().numClasses());
        List<LabelledInput> samples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Map<String, Tensor> inputs = new java.util.LinkedHashMap<>();
            for (TensorSpec spec : set.description().inputs()) {
                long[] shape = spec.shape().subList(1, spec.shape().size()).stream().mapToLong(Long::longValue).toArray();
                float[] values = new float[(int) io.microkernel.tensor.Shapes.elementCount(shape)];
                for (int k = 0; k < values.length; k++) {
                    values[k] = (float) random.nextGaussian();
                }
                inputs.put(spec.name(), Tensor.ofFloats(shape, values));
            }
            samples.add(new LabelledInput(inputs, new SampleLabel.ClassIndex(random.nextInt(classes))));
        }
        return samples;
    }

    /** Asserts that both checkpoints hold the same trainable parameters, to {@link #SAME_ANSWER_TOLERANCE}. */
    static void assertSameTrainable(Path expected, Path actual) {
        Checkpoint a = Checkpoint.read(expected);
        Checkpoint b = Checkpoint.read(actual);
        assertThat(b.trainable()).extracting(CheckpointTensor::name)
                .containsExactlyElementsOf(a.trainable().stream().map(CheckpointTensor::name).toList());
        for (CheckpointTensor p : a.trainable()) {
            float[] x = p.floats();
            float[] y = b.parameter(p.name()).orElseThrow().floats();
            assertThat(relativeDifference(x, y)).as("parameter %s", p.name()).isLessThanOrEqualTo(SAME_ANSWER_TOLERANCE);
        }
        assertThat(b.frozen()).as("frozen parameters are unchanged").isEqualTo(a.frozen());
    }

    static double relativeDifference(float[] x, float[] y) {
        assertThat(y).hasSameSizeAs(x);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < x.length; i++) {
            diff += (x[i] - y[i]) * (double) (x[i] - y[i]);
            norm += x[i] * (double) x[i];
        }
        return Math.sqrt(diff) / Math.max(1e-12, Math.sqrt(norm));
    }
}

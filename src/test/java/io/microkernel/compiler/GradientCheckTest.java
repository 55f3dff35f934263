package io.microkernel.compiler;

import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.ParameterSpec;
import io.microkernel.artifacts.LossKind;
import io.microkernel.testing.TinyModels;
import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.microkernel.artifacts.Onnx;
import io.microkernel.runtime.OrtRuntime;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every operator with a gradient is checked against central finite differences of the eval model's loss.
 */
class GradientCheckTest {

    private static final double EPSILON = 3e-3;

    @TempDir
    Path dir;

    private final OrtEnvironment env = OrtRuntime.bundled().environment();

    /**
     * One model to check.
     *
     * @param inputDims the static dims of the data fed to the single input {@code x}
     * @param labelDims the dims of the labels; class indices below {@code classes} for cross-entropy
     * @param trainable the trainable parameters, or empty for all
     */
    record Case(String name, ModelProto model, LossKind loss, long[] inputDims, long[] labelDims, int classes,
            Set<String> trainable) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        long[][] trans = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
        for (long[] t : trans) {
            cases.add(gemm(t[0], t[1], new long[] {3}));
        }
        cases.add(gemm(0, 1, new long[] {1, 3}));
        cases.add(gemm(1, 0, new long[] {5, 3}));
        cases.add(gemm(0, 0, new long[] {}));

        cases.add(new Case("MatMul 2-D and Add", new TinyModels.Graph("matmul2d", 11)
                .input("x", Onnx.FLOAT, -1, 4).weight("w", 0.5, 4, 3).weight("b", 0.2, 3)
                .node("MatMul", List.of("x", "w"), List.of("h"))
                .node("Add", List.of("h", "b"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of()));

        cases.add(new Case("MatMul 3-D, Relu and Reshape", new TinyModels.Graph("matmul3d", 12)
                .input("x", Onnx.FLOAT, -1, 5, 4).weight("w1", 0.5, 4, 6).weight("b1", 0.2, 6).weight("w2", 0.5, 6, 3)
                .ints("flat", -1, 3)
                .node("MatMul", List.of("x", "w1"), List.of("h1"))
                .node("Add", List.of("h1", "b1"), List.of("h2"))
                .node("Relu", List.of("h2"), List.of("h3"))
                .node("MatMul", List.of("h3", "w2"), List.of("h4"))
                .node("Reshape", List.of("h4", "flat"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {2, 5, 4}, new long[] {10}, 3, Set.of()));

        cases.add(new Case("broadcast Add, Mul, Sub, Div", new TinyModels.Graph("elementwise", 13)
                .input("x", Onnx.FLOAT, -1, 4)
                .weight("p", 0.5, 1, 4).weight("q", 0.5, 1.5, 4).weight("s", 0.5, new long[0])
                .weight("t", 1.0, 2.0, 4).weight("w", 0.5, 4, 3)
                .node("Add", List.of("x", "p"), List.of("a"))
                .node("Mul", List.of("a", "q"), List.of("m"))
                .node("Sub", List.of("m", "s"), List.of("d"))
                .node("Div", List.of("d", "t"), List.of("v"))
                .node("Sub", List.of("s", "v"), List.of("u"))
                .node("Sigmoid", List.of("u"), List.of("g"))
                .node("MatMul", List.of("g", "w"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of()));

        // Conv: padded stride 1 feeding a strided Conv (so dX flows between two ConvGrads), with and without bias.
        cases.add(new Case("Conv pad 1 stride 1 + bias, Relu, Conv stride 2 no bias, Flatten", new TinyModels.Graph("conv", 30)
                .input("x", Onnx.FLOAT, -1, 2, 5, 5).weight("c1w", 0.5, 3, 2, 3, 3).weight("c1b", 0.2, 3)
                .weight("c2w", 0.5, 4, 3, 3, 3).weight("w", 0.5, 3 * 3 * 4, 3)
                .node("Conv", List.of("x", "c1w", "c1b"), List.of("c1"), Onnx.attr("kernel_shape", new long[] {3, 3}),
                        Onnx.attr("pads", new long[] {1, 1, 1, 1}))
                .node("Relu", List.of("c1"), List.of("r1"))
                .node("Conv", List.of("r1", "c2w"), List.of("c2"), Onnx.attr("kernel_shape", new long[] {3, 3}),
                        Onnx.attr("pads", new long[] {1, 1, 1, 1}), Onnx.attr("strides", new long[] {2, 2}))
                .node("Flatten", List.of("c2"), List.of("f"), Onnx.attr("axis", 1L))
                .node("Tanh", List.of("f"), List.of("a"))
                .node("MatMul", List.of("a", "w"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {3, 2, 5, 5}, new long[] {3}, 3, Set.of()));
        cases.add(new Case("Conv without padding, dilated 2x2 kernel, only the Conv trainable", new TinyModels.Graph("conv2", 31)
                .input("x", Onnx.FLOAT, -1, 1, 6, 6).weight("cw", 0.6, 2, 1, 2, 2).weight("cb", 0.3, 2)
                .weight("w", 0.5, 2 * 4 * 4, 3)
                .node("Conv", List.of("x", "cw", "cb"), List.of("c"), Onnx.attr("dilations", new long[] {2, 2}))
                .node("Tanh", List.of("c"), List.of("t"))
                .node("Flatten", List.of("t"), List.of("f"), Onnx.attr("axis", 1L))
                .node("MatMul", List.of("f", "w"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {3, 1, 6, 6}, new long[] {3}, 3, Set.of("cb", "cw")));

        for (String act : List.of("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Neg", "Identity", "Dropout")) {
            cases.add(activation(act));
        }

        cases.add(new Case("Reshape, Unsqueeze, Squeeze, Transpose, Flatten", new TinyModels.Graph("shapes", 14)
                .input("x", Onnx.FLOAT, -1, 4).weight("w1", 0.5, 4, 6).weight("w2", 0.5, 6, 3)
                .ints("shape", -1, 2, 3).ints("axes", 1)
                .node("MatMul", List.of("x", "w1"), List.of("h"))
                .node("Reshape", List.of("h", "shape"), List.of("r"))
                .node("Unsqueeze", List.of("r", "axes"), List.of("u"))
                .node("Squeeze", List.of("u", "axes"), List.of("s"))
                .node("Transpose", List.of("s"), List.of("t"), Onnx.attr("perm", new long[] {0, 2, 1}))
                .node("Flatten", List.of("t"), List.of("f"), Onnx.attr("axis", 1L))
                .node("Tanh", List.of("f"), List.of("a"))
                .node("MatMul", List.of("a", "w2"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of()));

        cases.add(new Case("Softmax inside, final LogSoftmax folded", new TinyModels.Graph("softmax", 15)
                .input("x", Onnx.FLOAT, -1, 4).weight("w1", 1.0, 4, 6).weight("w2", 1.0, 6, 3).weight("b2", 0.2, 3)
                .node("Gemm", List.of("x", "w1"), List.of("h"))
                .node("Softmax", List.of("h"), List.of("p"), Onnx.attr("axis", -1L))
                .node("Gemm", List.of("p", "w2", "b2"), List.of("logits"))
                .node("LogSoftmax", List.of("logits"), List.of("log_probabilities"), Onnx.attr("axis", 1L))
                .output("log_probabilities", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of()));

        cases.add(new Case("LogSoftmax inside", new TinyModels.Graph("logsoftmax", 16)
                .input("x", Onnx.FLOAT, -1, 4).weight("w1", 1.0, 4, 6).weight("w2", 0.5, 6, 3)
                .node("MatMul", List.of("x", "w1"), List.of("h"))
                .node("LogSoftmax", List.of("h"), List.of("p"), Onnx.attr("axis", 1L))
                .node("MatMul", List.of("p", "w2"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of()));

        cases.add(new Case("a parameter used twice", new TinyModels.Graph("shared", 17)
                .input("x", Onnx.FLOAT, -1, 4).weight("w", 0.6, 4, 4).weight("head", 0.5, 4, 3)
                .node("MatMul", List.of("x", "w"), List.of("h1"))
                .node("Tanh", List.of("h1"), List.of("a1"))
                .node("MatMul", List.of("a1", "w"), List.of("h2"))
                .node("Add", List.of("h2", "a1"), List.of("r"))
                .node("MatMul", List.of("r", "head"), List.of("logits"))
                .output("logits", Onnx.FLOAT, -1, 3).build(),
                LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of()));

        ModelProto regression = TinyModels.regression(18);
        cases.add(new Case("MSE, all trainable", regression, LossKind.MSE, new long[] {5, 4}, new long[] {5, 2}, 0,
                Set.of()));
        cases.add(new Case("MSE, frozen backbone", regression, LossKind.MSE, new long[] {5, 4}, new long[] {5, 2}, 0,
                Set.of("w2", "b2")));
        return cases.stream();
    }

    private static Case gemm(long transA, long transB, long[] biasDims) {
        TinyModels.Graph g = new TinyModels.Graph("gemm", 10 + transA * 2 + transB)
                .input("x", Onnx.FLOAT, 5, 4).weight("w1", 0.6, 4, 6).weight("b1", 0.2, 6)
                .weight("w2", 0.6, transB == 1 ? new long[] {3, 6} : new long[] {6, 3})
                .weight("b2", 0.3, biasDims)
                .node("Gemm", List.of("x", "w1", "b1"), List.of("h"))
                .node("Tanh", List.of("h"), List.of("a"));
        String a = "a";
        if (transA == 1) {
            g.node("Transpose", List.of("a"), List.of("at"), Onnx.attr("perm", new long[] {1, 0}));
            a = "at";
        }
        // A scalar bias shifts every score alike, which softmax ignores; a Tanh after it makes it matter.
        boolean scalarBias = biasDims.length == 0;
        g.node("Gemm", List.of(a, "w2", "b2"), List.of(scalarBias ? "z" : "logits"), Onnx.attr("alpha", 0.7f),
                Onnx.attr("beta", 1.3f), Onnx.attr("transA", transA), Onnx.attr("transB", transB));
        if (scalarBias) {
            g.node("Tanh", List.of("z"), List.of("logits"));
        }
        ModelProto model = g.node("Softmax", List.of("logits"), List.of("probabilities"))
                .output("probabilities", Onnx.FLOAT, 5, 3).build();
        return new Case("Gemm transA=" + transA + " transB=" + transB + " bias " + java.util.Arrays.toString(biasDims),
                model, LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of());
    }

    private static Case activation(String op) {
        List<ai.onnx.proto.OnnxMl.AttributeProto> attrs = op.equals("LeakyRelu")
                ? List.of(Onnx.attr("alpha", 0.2f)) : List.of();
        ModelProto model = new TinyModels.Graph(op.toLowerCase(), 20 + op.length())
                .input("x", Onnx.FLOAT, -1, 4).weight("w1", 0.6, 4, 6).weight("b1", 0.2, 6)
                .weight("w2", 0.6, 6, 3).weight("b2", 0.2, 3)
                .node("Gemm", List.of("x", "w1", "b1"), List.of("h"))
                .node(op, List.of("h"), List.of("a"), attrs.toArray(ai.onnx.proto.OnnxMl.AttributeProto[]::new))
                .node("Gemm", List.of("a", "w2", "b2"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probabilities"))
                .output("probabilities", Onnx.FLOAT, -1, 3).build();
        return new Case(op, model, LossKind.CROSS_ENTROPY, new long[] {5, 4}, new long[] {5}, 3, Set.of());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void trainingGraphGradientsMatchFiniteDifferencesOfTheEvalLoss(Case c) throws OrtException {
        ArtifactBuilder builder = ArtifactBuilder.fromModel(c.model()).loss(c.loss());
        if (c.trainable().isEmpty()) {
            builder.allTrainable();
        } else {
            builder.trainable(c.trainable());
        }
        ArtifactSet set = builder.build(env, dir.resolve("set"));
        Random random = new Random(99);
        float[] x = new float[(int) Onnx.elementCount(c.inputDims())];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        int labelCount = (int) Onnx.elementCount(c.labelDims());
        String inputName = set.description().inputs().get(0).name();
        String labelName = set.description().label().name();
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), c.inputDims());
                OnnxTensor labels = labels(c, labelCount, random);
                GradientCheck check = new GradientCheck(env, set)) {
            Map<String, OnnxTensor> data = new LinkedHashMap<>();
            data.put(inputName, input);
            data.put(labelName, labels);
            List<GradientCheck.Element> elements = check.compare(data, EPSILON);

            assertThat(check.gradientNames().keySet()).containsExactlyInAnyOrderElementsOf(
                    set.description().trainable().stream().map(ParameterSpec::name).toList());
            assertThat(elements).hasSize((int) set.description().trainableCount());
            for (GradientCheck.Element e : elements) {
                assertThat(e.error())
                        .as("%s: d loss / d %s[%d]: analytic %.6f, finite difference %.6f", c.name(), e.parameter(),
                                e.index(), e.analytic(), e.numeric())
                        .isLessThanOrEqualTo(2e-3 + 3e-2 * Math.abs(e.numeric()));
            }
            for (String p : check.gradientNames().keySet()) {
                assertThat(elements.stream().filter(e -> e.parameter().equals(p))
                        .mapToDouble(e -> Math.abs(e.analytic())).max().orElse(0))
                        .as("%s: gradient of %s is not trivially zero", c.name(), p)
                        .isGreaterThan(1e-4);
            }
        }
    }

    private OnnxTensor labels(Case c, int count, Random random) throws OrtException {
        if (c.loss() == LossKind.CROSS_ENTROPY) {
            long[] y = new long[count];
            for (int i = 0; i < count; i++) {
                y[i] = random.nextInt(c.classes());
            }
            return OnnxTensor.createTensor(env, LongBuffer.wrap(y), c.labelDims());
        }
        float[] y = new float[count];
        for (int i = 0; i < count; i++) {
            y[i] = random.nextFloat();
        }
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(y), c.labelDims());
    }
}

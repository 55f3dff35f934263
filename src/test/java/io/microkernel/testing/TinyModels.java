package io.microkernel.testing;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.microkernel.artifacts.Onnx;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small inference models built in code for the artifact tests. */
public final class TinyModels {

    private TinyModels() {
    }

    /** A fluent graph builder with random initializers from a fixed seed. */
    public static final class Graph {
        private final GraphProto.Builder g = GraphProto.newBuilder();
        private final Random random;
        private long opset = 17;

        public Graph(String name, long seed) {
            g.setName(name);
            random = new Random(seed);
        }

        public Graph input(String name, int elemType, long... dims) {
            g.addInput(Onnx.valueInfo(name, elemType, dims));
            return this;
        }

        public Graph output(String name, int elemType, long... dims) {
            g.addOutput(Onnx.valueInfo(name, elemType, dims));
            return this;
        }

        /** A float initializer with values uniform in [-scale, scale]. */
        public Graph weight(String name, double scale, long... dims) {
            float[] v = new float[(int) Onnx.elementCount(dims)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
            }
            g.addInitializer(Onnx.floatTensor(name, dims, v));
            return this;
        }

        /** A float initializer with values uniform in [low, high]. */
        public Graph weight(String name, double low, double high, long... dims) {
            float[] v = new float[(int) Onnx.elementCount(dims)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (low + random.nextDouble() * (high - low));
            }
            g.addInitializer(Onnx.floatTensor(name, dims, v));
            return this;
        }

        public Graph ints(String name, long... values) {
            g.addInitializer(Onnx.int64Vector(name, values));
            return this;
        }

        public Graph initializer(TensorProto t) {
            g.addInitializer(t);
            return this;
        }

        public Graph node(String op, List<String> inputs, List<String> outputs, AttributeProto... attrs) {
            g.addNode(Onnx.node(op, op + "_" + g.getNodeCount(), inputs, outputs, attrs));
            return this;
        }

        public Graph node(NodeProto n) {
            g.addNode(n);
            return this;
        }

        public Graph opset(long version) {
            opset = version;
            return this;
        }

        public ModelProto build() {
            return ModelProto.newBuilder().setIrVersion(8).setProducerName("test").setGraph(g)
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
        }
    }

    /**
     * A frozen two-layer backbone (Gemm, Relu, MatMul, Tanh) and a Gemm head with Softmax:
     * {@code input [N,4] -> probabilities [N,3]}. The head is {@code head.weight} [3,8] (transB) and
     * {@code head.bias} [3].
     */
    public static ModelProto classifier(long seed) {
        return new Graph("classifier", seed)
                .input("input", Onnx.FLOAT, -1, 4)
                .weight("backbone.w1", 0.8, 4, 6).weight("backbone.b1", 0.1, 6)
                .weight("backbone.w2", 0.6, 6, 8)
                .weight("head.weight", 0.3, 3, 8).weight("head.bias", 0.1, 3)
                .node("Gemm", List.of("input", "backbone.w1", "backbone.b1"), List.of("h1"))
                .node("Relu", List.of("h1"), List.of("a1"))
                .node("MatMul", List.of("a1", "backbone.w2"), List.of("h2"))
                .node("Tanh", List.of("h2"), List.of("features"))
                .node("Gemm", List.of("features", "head.weight", "head.bias"), List.of("logits"),
                        Onnx.attr("transB", 1L))
                .node("Softmax", List.of("logits"), List.of("probabilities"), Onnx.attr("axis", -1L))
                .output("probabilities", Onnx.FLOAT, -1, 3)
                .build();
    }

    /**
     * A regression model for MSE: {@code x [N,4] -> Gemm, Tanh, Gemm, Sigmoid -> prediction [N,2]},
     * parameters {@code w1} [4,6], {@code b1} [6], {@code w2} [6,2], {@code b2} [2].
     */
    public static ModelProto regression(long seed) {
        return new Graph("regression", seed)
                .input("x", Onnx.FLOAT, -1, 4).weight("w1", 0.6, 4, 6).weight("b1", 0.2, 6)
                .weight("w2", 0.6, 6, 2).weight("b2", 0.2, 2)
                .node("Gemm", List.of("x", "w1", "b1"), List.of("h"))
                .node("Tanh", List.of("h"), List.of("a"))
                .node("Gemm", List.of("a", "w2", "b2"), List.of("z"))
                .node("Sigmoid", List.of("z"), List.of("prediction"))
                .output("prediction", Onnx.FLOAT, -1, 2).build();
    }

    /**
     * A classifier with two inputs, {@code left [N,2]} and {@code right [N,2]}, concatenated by a
     * frozen backbone: {@code probabilities [N,3]}, head {@code head.weight} [3,8] (transB) and
     * {@code head.bias} [3]. Its training graph takes three inputs (two features and the labels).
     */
    public static ModelProto twoInputClassifier() {
        return new Graph("two_inputs", 5)
                .input("left", Onnx.FLOAT, -1, 2)
                .input("right", Onnx.FLOAT, -1, 2)
                .weight("backbone.w", 0.8, 4, 8).weight("backbone.b", 0.1, 8)
                .weight("head.weight", 0.3, 3, 8).weight("head.bias", 0.1, 3)
                .node("Concat", List.of("left", "right"), List.of("joined"), Onnx.attr("axis", 1L))
                .node("Gemm", List.of("joined", "backbone.w", "backbone.b"), List.of("h"))
                .node("Tanh", List.of("h"), List.of("features"))
                .node("Gemm", List.of("features", "head.weight", "head.bias"), List.of("logits"),
                        Onnx.attr("transB", 1L))
                .node("Softmax", List.of("logits"), List.of("probabilities"), Onnx.attr("axis", -1L))
                .output("probabilities", Onnx.FLOAT, -1, 3)
                .build();
    }

    /**
     * A classifier over text: {@code text [N,3]} strings, mapped by a frozen
     * {@code ai.onnx.ml.LabelEncoder} ("red" 1, "green" 2, "blue" 3, anything else 0) to
     * {@code codes [N,3]} floats, then a frozen Gemm and Tanh backbone and a Gemm head with Softmax:
     * {@code probabilities [N,3]}, head {@code head.weight} [3,6] (transB) and {@code head.bias} [3].
     */
    public static ModelProto textClassifier() {
        NodeProto encoder = NodeProto.newBuilder().setOpType("LabelEncoder").setDomain("ai.onnx.ml").setName("encode")
                .addInput("text").addOutput("codes")
                .addAttribute(AttributeProto.newBuilder().setName("keys_strings").setType(AttributeProto.AttributeType.STRINGS)
                        .addStrings(com.google.protobuf.ByteString.copyFromUtf8("red"))
                        .addStrings(com.google.protobuf.ByteString.copyFromUtf8("green"))
                        .addStrings(com.google.protobuf.ByteString.copyFromUtf8("blue")))
                .addAttribute(AttributeProto.newBuilder().setName("values_floats").setType(AttributeProto.AttributeType.FLOATS)
                        .addFloats(1f).addFloats(2f).addFloats(3f))
                .addAttribute(AttributeProto.newBuilder().setName("default_float").setType(AttributeProto.AttributeType.FLOAT)
                        .setF(0f))
                .build();
        ModelProto model = new Graph("text_classifier", 9)
                .input("text", 8, -1, 3)
                .weight("backbone.w", 0.8, 3, 6).weight("backbone.b", 0.1, 6)
                .weight("head.weight", 0.5, 3, 6).weight("head.bias", 0.1, 3)
                .node(encoder)
                .node("Gemm", List.of("codes", "backbone.w", "backbone.b"), List.of("h"))
                .node("Tanh", List.of("h"), List.of("features"))
                .node("Gemm", List.of("features", "head.weight", "head.bias"), List.of("logits"), Onnx.attr("transB", 1L))
                .node("Softmax", List.of("logits"), List.of("probabilities"), Onnx.attr("axis", -1L))
                .output("probabilities", Onnx.FLOAT, -1, 3)
                .build();
        ModelProto.Builder withMl = model.toBuilder()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(2));
        // The encoder's output type is not its input's: declare it, as exporters do.
        withMl.getGraphBuilder().addValueInfo(Onnx.valueInfo("codes", Onnx.FLOAT, -1, 3));
        return withMl.build();
    }

    /** Labels for {@link #dataset}: the class is the index of the largest of the first three features. */
    public static long[] labels(float[][] x) {
        long[] y = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            int best = 0;
            for (int c = 1; c < 3; c++) {
                if (x[i][c] > x[i][best]) {
                    best = c;
                }
            }
            y[i] = best;
        }
        return y;
    }

    public static float[][] dataset(int n, int width, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[n][width];
        for (float[] row : x) {
            for (int j = 0; j < width; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    public static List<String> names(List<ValueInfoProto> infos) {
        List<String> out = new ArrayList<>();
        infos.forEach(i -> out.add(i.getName()));
        return out;
    }
}

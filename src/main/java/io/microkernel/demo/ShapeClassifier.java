package io.microkernel.demo;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.microkernel.artifacts.Onnx;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The default model's inference graph, written directly as ONNX protobuf.
 *
 * <pre>
 * image [N,1,16,16] -> Conv(1->32, 3x3) -> Relu -> Conv(32->64, 3x3, stride 2) -> Relu
 *                   -> Conv(64->64, 3x3, stride 2) -> Relu -> Flatten [N,1024]        (backbone)
 *                   -> Gemm(1024->classes) -> Softmax -> probabilities                 (head)
 * </pre>
 *
 * Convolutions share their filters across positions, so what the backbone learns about strokes and
 * corners in one place holds everywhere, which a fully connected layer cannot offer. Resolution is
 * halved by strided convolutions rather than pooling so that every operator on the path has a
 * gradient in {@link io.microkernel.compiler.ArtifactBuilder}, which pretrains it with everything
 * trainable.
 *
 * <p>Stateless and thread-safe.
 */
public final class ShapeClassifier {

    public static final String INPUT = "image";
    public static final String OUTPUT = "probabilities";
    /** Output channels of the three 3x3 convolutions; the last two halve the resolution. */
    private static final int[] CHANNELS = {32, 64, 64};
    /** The flattened output of the last convolution: 64 channels of 4x4. */
    public static final int FEATURES = 64 * 4 * 4;

    public static final String HEAD_WEIGHT = "head.weight";
    public static final String HEAD_BIAS = "head.bias";
    /** The parameters the shipped artifact set trains; everything else is the frozen backbone. */
    public static final List<String> HEAD_PARAMETERS = List.of(HEAD_WEIGHT, HEAD_BIAS);

    private ShapeClassifier() {
    }

    /** A freshly initialised model with a head of {@code classes} outputs; equal seeds give equal models. */
    public static ModelProto create(int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        GraphProto.Builder graph = GraphProto.newBuilder().setName("shape_classifier")
                .addInput(Onnx.valueInfo(INPUT, Onnx.FLOAT, -1, 1, ShapeImages.SIZE, ShapeImages.SIZE))
                .addOutput(Onnx.valueInfo(OUTPUT, Onnx.FLOAT, -1, classes))
                .addNode(conv("backbone.conv1", INPUT, "c1.pre", 1))
                .addNode(Onnx.node("Relu", "backbone.relu1", List.of("c1.pre"), List.of("c1")))
                .addNode(conv("backbone.conv2", "c1", "c2.pre", 2))
                .addNode(Onnx.node("Relu", "backbone.relu2", List.of("c2.pre"), List.of("c2")))
                .addNode(conv("backbone.conv3", "c2", "c3.pre", 2))
                .addNode(Onnx.node("Relu", "backbone.relu3", List.of("c3.pre"), List.of("c3")))
                .addNode(Onnx.node("Flatten", "flatten", List.of("c3"), List.of("features"), Onnx.attr("axis", 1L)))
                .addNode(Onnx.node("Gemm", "head", List.of("features", HEAD_WEIGHT, HEAD_BIAS), List.of("logits"),
                        Onnx.attr("transB", 1L)))
                .addNode(Onnx.node("Softmax", "softmax", List.of("logits"), List.of(OUTPUT), Onnx.attr("axis", 1L)));
        int in = 1;
        for (int i = 0; i < CHANNELS.length; i++) {
            String name = "backbone.conv" + (i + 1);
            graph.addInitializer(heNormal(name + ".weight", new long[] {CHANNELS[i], in, 3, 3}, in * 9, random));
            graph.addInitializer(zeros(name + ".bias", CHANNELS[i]));
            in = CHANNELS[i];
        }
        graph.addInitializer(heNormal(HEAD_WEIGHT, new long[] {classes, FEATURES}, FEATURES, random));
        graph.addInitializer(zeros(HEAD_BIAS, classes));
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("onnx-microkernel")
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .build();
    }

    /**
     * The same model with a new, freshly initialised head of {@code classes} outputs: the backbone's
     * initializers are kept as they are.
     */
    public static ModelProto withNewHead(ModelProto model, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        GraphProto.Builder graph = model.getGraph().toBuilder();
        for (int i = graph.getInitializerCount() - 1; i >= 0; i--) {
            if (HEAD_PARAMETERS.contains(graph.getInitializer(i).getName())) {
                graph.removeInitializer(i);
            }
        }
        graph.addInitializer(heNormal(HEAD_WEIGHT, new long[] {classes, FEATURES}, FEATURES, random));
        graph.addInitializer(zeros(HEAD_BIAS, classes));
        graph.clearOutput().addOutput(Onnx.valueInfo(OUTPUT, Onnx.FLOAT, -1, classes));
        return model.toBuilder().setGraph(graph).build();
    }

    private static ai.onnx.proto.OnnxMl.NodeProto conv(String name, String input, String output, long stride) {
        return Onnx.node("Conv", name, List.of(input, name + ".weight", name + ".bias"), List.of(output),
                Onnx.attr("kernel_shape", new long[] {3, 3}), Onnx.attr("pads", new long[] {1, 1, 1, 1}),
                Onnx.attr("strides", new long[] {stride, stride}));
    }

    /** He initialisation, suited to the ReLU that follows each layer. */
    private static TensorProto heNormal(String name, long[] dims, int fanIn, SplittableRandom random) {
        float[] values = new float[(int) Onnx.elementCount(dims)];
        double scale = Math.sqrt(2.0 / fanIn);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (scale * ShapeImages.gaussian(random));
        }
        return Onnx.floatTensor(name, dims, values);
    }

    private static TensorProto zeros(String name, int size) {
        return Onnx.floatTensor(name, new long[] {size}, new float[size]);
    }
}

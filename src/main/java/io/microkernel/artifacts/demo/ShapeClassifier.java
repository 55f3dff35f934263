package io.microkernel.artifacts.demo;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.microkernel.artifacts.onnx.Onnx;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The default model's inference graph, written directly as ONNX protobuf.
 *
 * <pre>
 * image [N,1,16,16] -> Flatten -> Gemm(256->256) -> Relu -> Gemm(256->128) -> Relu   (backbone)
 *                   -> Gemm(128->classes) -> Softmax -> probabilities                  (head)
 * </pre>
 *
 * The backbone is a plain MLP because every operator on its path must have a gradient in
 * {@link io.microkernel.artifacts.ArtifactBuilder} to pretrain it with everything trainable.
 * Stateless and thread-safe.
 */
public final class ShapeClassifier {

    public static final String INPUT = "image";
    public static final String OUTPUT = "probabilities";
    public static final int HIDDEN = 256;
    public static final int FEATURES = 128;

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
                .addNode(Onnx.node("Flatten", "flatten", List.of(INPUT), List.of("pixels"), Onnx.attr("axis", 1L)))
                .addNode(gemm("backbone.fc1", "pixels", "hidden.pre"))
                .addNode(Onnx.node("Relu", "backbone.relu1", List.of("hidden.pre"), List.of("hidden")))
                .addNode(gemm("backbone.fc2", "hidden", "features.pre"))
                .addNode(Onnx.node("Relu", "backbone.relu2", List.of("features.pre"), List.of("features")))
                .addNode(Onnx.node("Gemm", "head", List.of("features", HEAD_WEIGHT, HEAD_BIAS), List.of("logits"),
                        Onnx.attr("transB", 1L)))
                .addNode(Onnx.node("Softmax", "softmax", List.of("logits"), List.of(OUTPUT), Onnx.attr("axis", 1L)));
        graph.addInitializer(heNormal("backbone.fc1.weight", HIDDEN, ShapeImages.PIXELS, random));
        graph.addInitializer(zeros("backbone.fc1.bias", HIDDEN));
        graph.addInitializer(heNormal("backbone.fc2.weight", FEATURES, HIDDEN, random));
        graph.addInitializer(zeros("backbone.fc2.bias", FEATURES));
        graph.addInitializer(heNormal(HEAD_WEIGHT, classes, FEATURES, random));
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
        graph.addInitializer(heNormal(HEAD_WEIGHT, classes, FEATURES, random));
        graph.addInitializer(zeros(HEAD_BIAS, classes));
        graph.clearOutput().addOutput(Onnx.valueInfo(OUTPUT, Onnx.FLOAT, -1, classes));
        return model.toBuilder().setGraph(graph).build();
    }

    private static ai.onnx.proto.OnnxMl.NodeProto gemm(String name, String input, String output) {
        return Onnx.node("Gemm", name, List.of(input, name + ".weight", name + ".bias"), List.of(output),
                Onnx.attr("transB", 1L));
    }

    /** He initialisation, suited to the ReLU that follows each layer. */
    private static TensorProto heNormal(String name, int rows, int columns, SplittableRandom random) {
        float[] values = new float[rows * columns];
        double scale = Math.sqrt(2.0 / columns);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (scale * ShapeImages.gaussian(random));
        }
        return Onnx.floatTensor(name, new long[] {rows, columns}, values);
    }

    private static TensorProto zeros(String name, int size) {
        return Onnx.floatTensor(name, new long[] {size}, new float[size]);
    }
}

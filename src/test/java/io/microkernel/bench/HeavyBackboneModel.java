package io.microkernel.bench;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import io.microkernel.artifacts.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * A classifier whose frozen backbone costs tens of thousands of times more than its trainable head: four
 * 3x3 convolutions on a 3x32x32 image (about 48 million multiply-adds per image), global average
 * pooling, then one Gemm head with 128 x 10 weights. With the default model's small backbone the
 * share of a training step spent in the backbone says little; with this one it dominates.
 *
 * <p>Weights are random (He initialisation, fixed seed): the benchmark measures cost, not accuracy.
 */
public final class HeavyBackboneModel {

    static final String INPUT = "image";
    static final String OUTPUT = "probabilities";
    static final int CLASSES = 10;
    public static final Pattern TRAINABLE = Pattern.compile("head\\..*");
    public static final List<String> CLASS_NAMES = List.of("c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9");

    private HeavyBackboneModel() {
    }

    public static OnnxMl.ModelProto build(long seed) {
        Random random = new Random(seed);
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("heavy_backbone_classifier");
        graph.addInput(Onnx.valueInfo(INPUT, OnnxMl.TensorProto.DataType.FLOAT_VALUE, -1, 3, 32, 32));

        String features = INPUT;
        int channels = 3;
        int[][] layers = {{32, 1}, {64, 1}, {128, 2}, {128, 2}};
        for (int i = 0; i < layers.length; i++) {
            int out = layers[i][0];
            int stride = layers[i][1];
            String name = "backbone.conv" + (i + 1);
            graph.addInitializer(heNormal(name + ".weight", random, channels * 9, out, channels, 3, 3));
            graph.addInitializer(zeros(name + ".bias", out));
            graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Conv").setName(name)
                    .addInput(features).addInput(name + ".weight").addInput(name + ".bias")
                    .addOutput(name + ".out")
                    .addAttribute(Onnx.attr("kernel_shape", new long[] {3, 3}))
                    .addAttribute(Onnx.attr("pads", new long[] {1, 1, 1, 1}))
                    .addAttribute(Onnx.attr("strides", new long[] {stride, stride})));
            graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Relu").setName(name + ".relu")
                    .addInput(name + ".out").addOutput(name + ".act"));
            features = name + ".act";
            channels = out;
        }
        graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("GlobalAveragePool").setName("backbone.pool")
                .addInput(features).addOutput("backbone.pooled"));
        graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Flatten").setName("backbone.flatten")
                .addInput("backbone.pooled").addOutput("features")
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis").setI(1)
                        .setType(OnnxMl.AttributeProto.AttributeType.INT)));

        graph.addInitializer(heNormal("head.weight", random, channels, CLASSES, channels));
        graph.addInitializer(zeros("head.bias", CLASSES));
        graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Gemm").setName("head.gemm")
                .addInput("features").addInput("head.weight").addInput("head.bias").addOutput("logits")
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("transB").setI(1)
                        .setType(OnnxMl.AttributeProto.AttributeType.INT)));
        graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Softmax").setName("head.softmax")
                .addInput("logits").addOutput(OUTPUT)
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis").setI(1)
                        .setType(OnnxMl.AttributeProto.AttributeType.INT)));
        graph.addOutput(Onnx.valueInfo(OUTPUT, OnnxMl.TensorProto.DataType.FLOAT_VALUE, -1, CLASSES));

        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("onnx-microkernel-bench")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph)
                .build();
    }

    private static OnnxMl.TensorProto heNormal(String name, Random random, int fanIn, long... dims) {
        int count = (int) ModelInputs.elements(dims);
        float[] values = new float[count];
        double scale = Math.sqrt(2.0 / fanIn);
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return floats(name, values, dims);
    }

    private static OnnxMl.TensorProto zeros(String name, long size) {
        return floats(name, new float[(int) size], size);
    }

    private static OnnxMl.TensorProto floats(String name, float[] values, long... dims) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        OnnxMl.TensorProto.Builder tensor = OnnxMl.TensorProto.newBuilder().setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(bytes.array()));
        for (long dim : dims) {
            tensor.addDims(dim);
        }
        return tensor.build();
    }
}

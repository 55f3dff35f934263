package io.microkernel.testing;

import static io.microkernel.artifacts.Onnx.valueInfo;

import ai.onnx.proto.OnnxMl;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Tiny inference models written with the ONNX protobuf classes, for serving tests. */
public final class TestModels {

    public static final int FLOAT = 1;
    public static final int INT32 = 6;
    public static final int INT64 = 7;
    public static final int BOOL = 9;
    public static final int DOUBLE = 11;
    public static final int UINT8 = 2;
    public static final int INT8 = 3;
    public static final int INT16 = 5;
    public static final int FLOAT16 = 10;

    private TestModels() {
    }

    /**
     * {@code input} FP32 [-1, features] -> Gemm(W [classes, features], b) -> Softmax -> {@code probabilities} [-1, classes].
     * With all weights zero and bias {@code b}, every row scores softmax(b), so the bias decides the class.
     */
    public static OnnxMl.ModelProto classifier(int features, float[] bias) {
        int classes = bias.length;
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("classifier")
                .addInput(valueInfo("input", FLOAT, -1, features))
                .addOutput(valueInfo("probabilities", FLOAT, -1, classes))
                .addInitializer(floatTensor("W", new float[classes * features], classes, features))
                .addInitializer(floatTensor("b", bias, classes))
                .addNode(node("Gemm", List.of("input", "W", "b"), List.of("logits"), intAttribute("transB", 1)))
                .addNode(node("Softmax", List.of("logits"), List.of("probabilities"), intAttribute("axis", 1)));
        return model(graph);
    }

    /** {@code a} FP32 [-1, 2] + {@code b} FP32 [-1, 2] -> {@code sum} [-1, 2]. */
    public static OnnxMl.ModelProto twoInputs() {
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("two_inputs")
                .addInput(valueInfo("a", FLOAT, -1, 2))
                .addInput(valueInfo("b", FLOAT, -1, 2))
                .addOutput(valueInfo("sum", FLOAT, -1, 2))
                .addNode(node("Add", List.of("a", "b"), List.of("sum")));
        return model(graph);
    }

    /**
     * Inputs {@code i32} INT32, {@code i64} INT64, {@code f64} FP64, {@code flag} BOOL, each [-1, 2];
     * output {@code total} FP64 [-1, 2] = i32 + i64 + f64 + flag (all cast to double), and {@code flag_out} BOOL = not flag.
     */
    public static OnnxMl.ModelProto typed() {
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("typed")
                .addInput(valueInfo("i32", INT32, -1, 2))
                .addInput(valueInfo("i64", INT64, -1, 2))
                .addInput(valueInfo("f64", DOUBLE, -1, 2))
                .addInput(valueInfo("flag", BOOL, -1, 2))
                .addOutput(valueInfo("total", DOUBLE, -1, 2))
                .addOutput(valueInfo("flag_out", BOOL, -1, 2))
                .addNode(node("Cast", List.of("i32"), List.of("i32d"), intAttribute("to", DOUBLE)))
                .addNode(node("Cast", List.of("i64"), List.of("i64d"), intAttribute("to", DOUBLE)))
                .addNode(node("Cast", List.of("flag"), List.of("flagd"), intAttribute("to", DOUBLE)))
                .addNode(node("Add", List.of("i32d", "i64d"), List.of("s1")))
                .addNode(node("Add", List.of("s1", "f64"), List.of("s2")))
                .addNode(node("Add", List.of("s2", "flagd"), List.of("total")))
                .addNode(node("Not", List.of("flag"), List.of("flag_out")));
        return model(graph);
    }

    /**
     * The narrow types: inputs {@code h} FP16, {@code i8} INT8, {@code i16} INT16, {@code u8} UINT8,
     * each [-1, 2], echoed as {@code h_out}, {@code i8_out}, {@code i16_out}, {@code u8_out}, and
     * {@code h_twice} FP16 = h + h.
     */
    public static OnnxMl.ModelProto narrowTypes() {
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("narrow_types")
                .addInput(valueInfo("h", FLOAT16, -1, 2))
                .addInput(valueInfo("i8", INT8, -1, 2))
                .addInput(valueInfo("i16", INT16, -1, 2))
                .addInput(valueInfo("u8", UINT8, -1, 2))
                .addOutput(valueInfo("h_out", FLOAT16, -1, 2))
                .addOutput(valueInfo("i8_out", INT8, -1, 2))
                .addOutput(valueInfo("i16_out", INT16, -1, 2))
                .addOutput(valueInfo("u8_out", UINT8, -1, 2))
                .addOutput(valueInfo("h_twice", FLOAT16, -1, 2))
                .addNode(node("Identity", List.of("h"), List.of("h_out")))
                .addNode(node("Identity", List.of("i8"), List.of("i8_out")))
                .addNode(node("Identity", List.of("i16"), List.of("i16_out")))
                .addNode(node("Identity", List.of("u8"), List.of("u8_out")))
                .addNode(node("Add", List.of("h", "h"), List.of("h_twice")));
        return model(graph);
    }

    /** The ONNX element type of bfloat16 (OIP BF16). */
    public static final int BFLOAT16 = 16;

    /** {@code bf [N,2]} BF16 → {@code bf_out} (Identity, BF16) and {@code bf_float} (Cast to FP32). */
    public static OnnxMl.ModelProto bfloat16() {
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("bfloat16")
                .addInput(valueInfo("bf", BFLOAT16, -1, 2))
                .addOutput(valueInfo("bf_out", BFLOAT16, -1, 2))
                .addOutput(valueInfo("bf_float", FLOAT, -1, 2))
                .addNode(node("Identity", List.of("bf"), List.of("bf_out")))
                .addNode(node("Cast", List.of("bf"), List.of("bf_float"), intAttribute("to", FLOAT)));
        return model(graph);
    }

    /** The ONNX element type of text (OIP BYTES). */
    public static final int STRING = 8;

    /**
     * A model over text (OIP BYTES): {@code text [N,2]} string → {@code echo [N,2]} string
     * (Identity) and {@code codes [N,2]} float, where {@code ai.onnx.ml.LabelEncoder} maps "a" to 1,
     * "b" to 2, "é" to 3 and anything else to -1.
     */
    public static OnnxMl.ModelProto strings() {
        OnnxMl.NodeProto encoder = OnnxMl.NodeProto.newBuilder().setOpType("LabelEncoder").setDomain("ai.onnx.ml")
                .setName("encode").addInput("text").addOutput("codes")
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("keys_strings")
                        .setType(OnnxMl.AttributeProto.AttributeType.STRINGS)
                        .addStrings(com.google.protobuf.ByteString.copyFromUtf8("a"))
                        .addStrings(com.google.protobuf.ByteString.copyFromUtf8("b"))
                        .addStrings(com.google.protobuf.ByteString.copyFromUtf8("é")))
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("values_floats")
                        .setType(OnnxMl.AttributeProto.AttributeType.FLOATS).addFloats(1f).addFloats(2f).addFloats(3f))
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("default_float")
                        .setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(-1f))
                .build();
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("strings")
                .addInput(valueInfo("text", STRING, -1, 2))
                .addOutput(valueInfo("echo", STRING, -1, 2))
                .addOutput(valueInfo("codes", FLOAT, -1, 2))
                .addNode(node("Identity", List.of("text"), List.of("echo")))
                .addNode(encoder);
        return model(graph).toBuilder()
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(2)).build();
    }

    public static Path write(OnnxMl.ModelProto model, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, model.toByteArray());
        return file;
    }

    private static OnnxMl.ModelProto model(OnnxMl.GraphProto.Builder graph) {
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("microkernel-tests")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph)
                .build();
    }

    private static OnnxMl.TensorProto floatTensor(String name, float[] values, long... dims) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putFloat(v);
        }
        OnnxMl.TensorProto.Builder tensor = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .setRawData(com.google.protobuf.ByteString.copyFrom(bytes.array()));
        for (long d : dims) {
            tensor.addDims(d);
        }
        return tensor.build();
    }

    private static OnnxMl.AttributeProto intAttribute(String name, long value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static OnnxMl.NodeProto node(String op, List<String> inputs, List<String> outputs, OnnxMl.AttributeProto... attributes) {
        OnnxMl.NodeProto.Builder node = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(op + "_" + outputs.get(0))
                .addAllInput(inputs).addAllOutput(outputs);
        for (OnnxMl.AttributeProto a : attributes) {
            node.addAttribute(a);
        }
        return node.build();
    }

    /** A folder with {@code inference.onnx} and a stand-in checkpoint, ready for {@code ModelStore.publish}. */
    public static Path candidate(Path dir, OnnxMl.ModelProto model) throws IOException {
        write(model, dir.resolve("inference.onnx"));
        Files.write(dir.resolve("checkpoint"), model.toByteArray());
        return dir;
    }

    public static List<Float> list(float... values) {
        List<Float> out = new ArrayList<>();
        for (float v : values) {
            out.add(v);
        }
        return out;
    }
}

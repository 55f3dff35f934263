package io.microkernel.artifacts;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.microkernel.artifacts.ArtifactException;
import io.microkernel.tensor.Shapes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Small builders and readers for ONNX protobuf messages. */
public final class Onnx {

    /** ONNX {@code TensorProto.DataType} numbers used here. */
    public static final int FLOAT = 1, INT32 = 6, INT64 = 7, BOOL = 9, DOUBLE = 11;

    public static final String MICROSOFT = "com.microsoft";

    private Onnx() {
    }

    /** Parses an ONNX model file; a missing or unparsable file is an {@link ArtifactException} naming it. */
    public static ModelProto read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ArtifactException(file, Files.isDirectory(file) ? "expected an ONNX model file, found a directory"
                    : "missing ONNX model file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            // Large backbones exceed protobuf's default 64 MB message limit.
            coded.setSizeLimit(Integer.MAX_VALUE);
            ModelProto model = ModelProto.parseFrom(coded);
            if (!model.hasGraph()) {
                throw new ArtifactException(file, "not an ONNX model: no graph");
            }
            return model;
        } catch (IOException e) {
            throw new ArtifactException(file, "not a valid ONNX model: " + e.getMessage(), e);
        }
    }

    public static void write(ModelProto model, Path file) {
        try {
            Files.write(file, model.toByteArray());
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot write ONNX model: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------ value infos

    /** A tensor value info; a negative dim is left unknown (dynamic). */
    public static ValueInfoProto valueInfo(String name, int elemType, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d >= 0) {
                dim.setDimValue(d);
            } else {
                dim.setDimParam("N");
            }
            shape.addDim(dim);
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
                .build();
    }

    /** A value info of unknown shape: the shape is whatever arrives. */
    public static ValueInfoProto valueInfoNoShape(String name, int elemType) {
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType)))
                .build();
    }

    /** A sequence-of-tensors value info, as the optimizer graph's inputs are. */
    public static ValueInfoProto sequenceInfo(String name, int elemType) {
        TypeProto element = TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType)).build();
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setSequenceType(TypeProto.Sequence.newBuilder().setElemType(element)))
                .build();
    }

    /** The element type of a tensor value info, or 0 when it is not a tensor. */
    public static int elemType(ValueInfoProto info) {
        return info.getType().hasTensorType() ? info.getType().getTensorType().getElemType() : 0;
    }

    /** The dims of a tensor value info, -1 for symbolic or unknown dims; empty when it has no shape. */
    public static Optional<long[]> dims(ValueInfoProto info) {
        if (!info.getType().hasTensorType() || !info.getType().getTensorType().hasShape()) {
            return Optional.empty();
        }
        List<TensorShapeProto.Dimension> dims = info.getType().getTensorType().getShape().getDimList();
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = dims.get(i).hasDimValue() ? dims.get(i).getDimValue() : -1;
        }
        return Optional.of(out);
    }

    // ------------------------------------------------------------ tensors

    public static TensorProto floatTensor(String name, long[] dims, float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return TensorProto.newBuilder().setName(name).setDataType(FLOAT).addAllDims(boxed(dims))
                .setRawData(ByteString.copyFrom(buffer.array())).build();
    }

    public static TensorProto int64Tensor(String name, long[] dims, long[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asLongBuffer().put(values);
        return TensorProto.newBuilder().setName(name).setDataType(INT64).addAllDims(boxed(dims))
                .setRawData(ByteString.copyFrom(buffer.array())).build();
    }

    public static TensorProto scalarFloat(String name, float value) {
        return floatTensor(name, new long[0], new float[] {value});
    }

    public static TensorProto int64Vector(String name, long... values) {
        return int64Tensor(name, new long[] {values.length}, values);
    }

    public static long[] dims(TensorProto tensor) {
        return tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    public static long elementCount(long[] dims) {
        return Shapes.elementCount(dims);
    }

    /** The float values of an initializer, from {@code raw_data} or {@code float_data}. */
    public static float[] floats(TensorProto tensor) {
        if (tensor.getDataType() != FLOAT) {
            throw new IllegalArgumentException("tensor '" + tensor.getName() + "' is not float");
        }
        if (tensor.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalArgumentException("tensor '" + tensor.getName() + "' keeps its data in an external file");
        }
        if (tensor.hasRawData()) {
            float[] out = new float[tensor.getRawData().size() / 4];
            tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
        float[] out = new float[tensor.getFloatDataCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tensor.getFloatData(i);
        }
        return out;
    }

    /** The little-endian bytes of an initializer, whichever field holds them. */
    public static byte[] rawBytes(TensorProto tensor) {
        if (tensor.hasRawData()) {
            return tensor.getRawData().toByteArray();
        }
        if (tensor.getDataType() == FLOAT) {
            float[] values = floats(tensor);
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return b.array();
        }
        throw new IllegalArgumentException("tensor '" + tensor.getName() + "' of type " + tensor.getDataType()
                + " has no raw data");
    }

    private static List<Long> boxed(long[] dims) {
        return java.util.Arrays.stream(dims).boxed().toList();
    }

    // ------------------------------------------------------------ nodes and attributes

    public static NodeProto node(String opType, String name, List<String> inputs, List<String> outputs,
            AttributeProto... attributes) {
        return node("", opType, name, inputs, outputs, attributes);
    }

    public static NodeProto node(String domain, String opType, String name, List<String> inputs, List<String> outputs,
            AttributeProto... attributes) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(opType).setName(name)
                .addAllInput(inputs).addAllOutput(outputs);
        if (!domain.isEmpty()) {
            b.setDomain(domain);
        }
        for (AttributeProto a : attributes) {
            b.addAttribute(a);
        }
        return b.build();
    }

    public static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    public static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    public static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    public static AttributeProto attr(String name, long[] values) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            b.addInts(v);
        }
        return b.build();
    }

    public static AttributeProto attr(String name, TensorProto value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(value).build();
    }

    public static Optional<AttributeProto> attribute(NodeProto node, String name) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst();
    }

    public static long intAttr(NodeProto node, String name, long defaultValue) {
        return attribute(node, name).map(AttributeProto::getI).orElse(defaultValue);
    }

    public static float floatAttr(NodeProto node, String name, float defaultValue) {
        return attribute(node, name).map(AttributeProto::getF).orElse(defaultValue);
    }

    public static Optional<long[]> intsAttr(NodeProto node, String name) {
        return attribute(node, name).map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray());
    }

    public static String stringAttr(NodeProto node, String name, String defaultValue) {
        return attribute(node, name).map(a -> a.getS().toStringUtf8()).orElse(defaultValue);
    }

    /** The opset version a model imports for a domain ({@code ""} = the default ONNX domain), 0 when absent. */
    public static long opset(ModelProto model, String domain) {
        return model.getOpsetImportList().stream()
                .filter(o -> o.getDomain().equals(domain) || (domain.isEmpty() && o.getDomain().equals("ai.onnx")))
                .mapToLong(o -> o.getVersion()).max().orElse(0);
    }

    /** A node's display name for messages: its name, else its first output. */
    public static String describe(NodeProto node) {
        if (!node.getName().isEmpty()) {
            return "'" + node.getName() + "'";
        }
        return node.getOutputCount() > 0 ? "(unnamed, output '" + node.getOutput(0) + "')" : "(unnamed)";
    }
}

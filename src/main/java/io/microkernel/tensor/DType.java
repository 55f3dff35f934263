package io.microkernel.tensor;

import ai.onnxruntime.OnnxJavaType;
import java.util.Arrays;
import java.util.Optional;

/** Tensor element types the service accepts, with their names in ONNX and in the Open Inference Protocol. */
public enum DType {
    FLOAT(1, "FP32", OnnxJavaType.FLOAT),
    DOUBLE(11, "FP64", OnnxJavaType.DOUBLE),
    INT32(6, "INT32", OnnxJavaType.INT32),
    INT64(7, "INT64", OnnxJavaType.INT64),
    BOOL(9, "BOOL", OnnxJavaType.BOOL);

    private final int onnxCode;
    private final String oipName;
    private final OnnxJavaType javaType;

    DType(int onnxCode, String oipName, OnnxJavaType javaType) {
        this.onnxCode = onnxCode;
        this.oipName = oipName;
        this.javaType = javaType;
    }

    /** The ONNX {@code TensorProto.DataType} number. */
    public int onnxCode() {
        return onnxCode;
    }

    /** The datatype name of the Open Inference Protocol v2 ({@code FP32}, {@code INT64}...). */
    public String oipName() {
        return oipName;
    }

    public OnnxJavaType javaType() {
        return javaType;
    }

    public static Optional<DType> fromOnnxCode(int code) {
        return Arrays.stream(values()).filter(d -> d.onnxCode == code).findFirst();
    }

    public static Optional<DType> fromOipName(String name) {
        return Arrays.stream(values()).filter(d -> d.oipName.equals(name)).findFirst();
    }

    public static Optional<DType> fromJavaType(OnnxJavaType type) {
        return Arrays.stream(values()).filter(d -> d.javaType == type).findFirst();
    }
}

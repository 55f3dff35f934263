package io.microkernel.tensor;

import ai.onnxruntime.OnnxJavaType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * Tensor element types the service accepts, with their names in ONNX and in the Open Inference
 * Protocol, their packed size and how one element is read from and written to a packed buffer.
 * Every per-type decision of the tensor path lives here, so no other class switches on the type.
 *
 * <p>Immutable and thread-safe; the buffer methods use absolute indexes and never move a position.
 */
public enum DType {
    FLOAT(1, "FP32", OnnxJavaType.FLOAT, 4) {
        @Override
        public double getDouble(ByteBuffer buffer, int index) {
            return buffer.getFloat(index * 4);
        }

        @Override
        public void putDouble(ByteBuffer buffer, int index, double value) {
            buffer.putFloat(index * 4, (float) value);
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return buffer.getFloat(index * 4);
        }
    },
    DOUBLE(11, "FP64", OnnxJavaType.DOUBLE, 8) {
        @Override
        public double getDouble(ByteBuffer buffer, int index) {
            return buffer.getDouble(index * 8);
        }

        @Override
        public void putDouble(ByteBuffer buffer, int index, double value) {
            buffer.putDouble(index * 8, value);
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return buffer.getDouble(index * 8);
        }
    },
    INT32(6, "INT32", OnnxJavaType.INT32, 4) {
        @Override
        public long getLong(ByteBuffer buffer, int index) {
            return buffer.getInt(index * 4);
        }

        @Override
        public void putLong(ByteBuffer buffer, int index, long value) {
            buffer.putInt(index * 4, Math.toIntExact(value));
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return buffer.getInt(index * 4);
        }
    },
    INT64(7, "INT64", OnnxJavaType.INT64, 8) {
        @Override
        public long getLong(ByteBuffer buffer, int index) {
            return buffer.getLong(index * 8);
        }

        @Override
        public void putLong(ByteBuffer buffer, int index, long value) {
            buffer.putLong(index * 8, value);
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return buffer.getLong(index * 8);
        }
    },
    BOOL(9, "BOOL", OnnxJavaType.BOOL, 1) {
        @Override
        public long getLong(ByteBuffer buffer, int index) {
            return buffer.get(index) != 0 ? 1 : 0;
        }

        /** ONNX booleans are one byte, 0 or 1; any non-zero value is stored as 1. */
        @Override
        public void putLong(ByteBuffer buffer, int index, long value) {
            buffer.put(index, (byte) (value != 0 ? 1 : 0));
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return buffer.get(index) != 0;
        }
    };

    private final int onnxCode;
    private final String oipName;
    private final OnnxJavaType javaType;
    private final int byteSize;

    DType(int onnxCode, String oipName, OnnxJavaType javaType, int byteSize) {
        this.onnxCode = onnxCode;
        this.oipName = oipName;
        this.javaType = javaType;
        this.byteSize = byteSize;
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

    /** Bytes per element in a packed buffer (booleans take one byte each, as ONNX Runtime stores them). */
    public int byteSize() {
        return byteSize;
    }

    /** {@code FLOAT} and {@code DOUBLE}: the types whose elements are written with {@link #putDouble}. */
    public boolean isFloatingPoint() {
        return this == FLOAT || this == DOUBLE;
    }

    /** Element {@code index} as a double; integers and booleans (0 or 1) widen. */
    public double getDouble(ByteBuffer buffer, int index) {
        return getLong(buffer, index);
    }

    /** Element {@code index} as a long; floating-point elements are truncated toward zero. */
    public long getLong(ByteBuffer buffer, int index) {
        return (long) getDouble(buffer, index);
    }

    /** Stores {@code value} at element {@code index}, narrowed to this type. */
    public void putDouble(ByteBuffer buffer, int index, double value) {
        putLong(buffer, index, (long) value);
    }

    /** Stores {@code value} at element {@code index}, narrowed to this type. */
    public void putLong(ByteBuffer buffer, int index, long value) {
        putDouble(buffer, index, value);
    }

    /** Element {@code index} as the boxed Java value JSON writes ({@code Float}, {@code Long}, {@code Boolean}...). */
    public abstract Object boxed(ByteBuffer buffer, int index);

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

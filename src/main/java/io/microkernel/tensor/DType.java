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
    },
    /** IEEE 754 half precision; JSON carries it as numbers, read and written through float. */
    FLOAT16(10, "FP16", OnnxJavaType.FLOAT16, 2) {
        @Override
        public double getDouble(ByteBuffer buffer, int index) {
            return halfToFloat(buffer.getShort(index * 2));
        }

        @Override
        public void putDouble(ByteBuffer buffer, int index, double value) {
            buffer.putShort(index * 2, floatToHalf((float) value));
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return (float) getDouble(buffer, index);
        }
    },
    /** bfloat16, the upper half of an FP32; JSON carries it as numbers, read and written through float. */
    BFLOAT16(16, "BF16", OnnxJavaType.BFLOAT16, 2) {
        @Override
        public double getDouble(ByteBuffer buffer, int index) {
            return bfloat16ToFloat(buffer.getShort(index * 2));
        }

        @Override
        public void putDouble(ByteBuffer buffer, int index, double value) {
            buffer.putShort(index * 2, floatToBfloat16((float) value));
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return (float) getDouble(buffer, index);
        }
    },
    INT8(3, "INT8", OnnxJavaType.INT8, 1) {
        @Override
        public long getLong(ByteBuffer buffer, int index) {
            return buffer.get(index);
        }

        @Override
        public void putLong(ByteBuffer buffer, int index, long value) {
            buffer.put(index, (byte) value);
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return (int) buffer.get(index);
        }
    },
    INT16(5, "INT16", OnnxJavaType.INT16, 2) {
        @Override
        public long getLong(ByteBuffer buffer, int index) {
            return buffer.getShort(index * 2);
        }

        @Override
        public void putLong(ByteBuffer buffer, int index, long value) {
            buffer.putShort(index * 2, (short) value);
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return (int) buffer.getShort(index * 2);
        }
    },
    UINT8(2, "UINT8", OnnxJavaType.UINT8, 1) {
        @Override
        public long getLong(ByteBuffer buffer, int index) {
            return Byte.toUnsignedInt(buffer.get(index));
        }

        @Override
        public void putLong(ByteBuffer buffer, int index, long value) {
            buffer.put(index, (byte) value);
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            return Byte.toUnsignedInt(buffer.get(index));
        }
    },
    /**
     * Text: the Open Inference Protocol's BYTES, ONNX's STRING. Elements have no fixed size, so a
     * tensor of this type keeps them as Java strings (the form ONNX Runtime's Java API takes and
     * gives) rather than in a packed buffer; {@link #byteSize()} is 0 and every buffer method throws.
     * On the wire each element is a 4-byte length and then its UTF-8 bytes ({@link Tensor#toBytes}).
     */
    STRING(8, "BYTES", OnnxJavaType.STRING, 0) {
        @Override
        public double getDouble(ByteBuffer buffer, int index) {
            throw notPacked();
        }

        @Override
        public long getLong(ByteBuffer buffer, int index) {
            throw notPacked();
        }

        @Override
        public void putDouble(ByteBuffer buffer, int index, double value) {
            throw notPacked();
        }

        @Override
        public void putLong(ByteBuffer buffer, int index, long value) {
            throw notPacked();
        }

        @Override
        public Object boxed(ByteBuffer buffer, int index) {
            throw notPacked();
        }

        private IllegalStateException notPacked() {
            return new IllegalStateException("expected a numeric or boolean tensor, found BYTES (text elements are not numbers)");
        }
    };

    /**
     * Open Inference Protocol datatypes that ONNX Runtime's Java API cannot hand to a session
     * (its {@code OnnxJavaType} has no unsigned 16, 32 or 64-bit type), each with the reason a
     * request naming one is refused.
     */
    private static final java.util.Map<String, String> REFUSED = java.util.Map.of(
            "UINT16", "ONNX Runtime's Java API has no UINT16 tensors",
            "UINT32", "ONNX Runtime's Java API has no UINT32 tensors",
            "UINT64", "ONNX Runtime's Java API has no UINT64 tensors");

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

    /** The TensorFlow {@code DataType} name TF Serving's metadata uses ({@code DT_FLOAT}, {@code DT_HALF}...). */
    public String tfName() {
        return switch (this) {
            case FLOAT -> "DT_FLOAT";
            case DOUBLE -> "DT_DOUBLE";
            case FLOAT16 -> "DT_HALF";
            default -> "DT_" + name();
        };
    }

    public OnnxJavaType javaType() {
        return javaType;
    }

    /**
     * Bytes per element in a packed buffer (booleans take one byte each, as ONNX Runtime stores
     * them); 0 for {@link #STRING}, whose elements are not packed.
     */
    public int byteSize() {
        return byteSize;
    }

    /** {@link #STRING} (OIP {@code BYTES}): elements are text, kept as strings, not packed numbers. */
    public boolean isString() {
        return this == STRING;
    }

    /** {@code FLOAT}, {@code DOUBLE}, {@code FLOAT16} and {@code BFLOAT16}: the types whose elements are written with {@link #putDouble}. */
    public boolean isFloatingPoint() {
        return this == FLOAT || this == DOUBLE || this == FLOAT16 || this == BFLOAT16;
    }

    /** {@code value} as this floating-point type stores it (so 1e6 is infinite in FP16); other types return it unchanged. */
    public double narrow(double value) {
        return switch (this) {
            case FLOAT -> (float) value;
            case FLOAT16 -> halfToFloat(floatToHalf((float) value));
            case BFLOAT16 -> bfloat16ToFloat(floatToBfloat16((float) value));
            default -> value;
        };
    }

    /** The smallest value of an integer type (0 for booleans and unsigned types); {@code Long.MIN_VALUE} otherwise. */
    public long minLong() {
        return switch (this) {
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case UINT8, BOOL -> 0;
            default -> Long.MIN_VALUE;
        };
    }

    /** The largest value of an integer type (1 for booleans); {@code Long.MAX_VALUE} otherwise. */
    public long maxLong() {
        return switch (this) {
            case INT8 -> Byte.MAX_VALUE;
            case INT16 -> Short.MAX_VALUE;
            case INT32 -> Integer.MAX_VALUE;
            case UINT8 -> 255;
            case BOOL -> 1;
            default -> Long.MAX_VALUE;
        };
    }

    /**
     * Why an Open Inference Protocol datatype the service has no {@code DType} for is refused
     * ({@code UINT64}: "ONNX Runtime's Java API has no UINT64 tensors"), or empty for a name that
     * is no OIP datatype at all.
     */
    public static Optional<String> refusal(String oipName) {
        return Optional.ofNullable(oipName).map(REFUSED::get);
    }

    /** The datatype names of the Open Inference Protocol the service takes, in declaration order. */
    public static java.util.List<String> oipNames() {
        return Arrays.stream(values()).map(DType::oipName).toList();
    }

    /** A float as IEEE 754 half precision bits, rounded to nearest even; out of range becomes infinity. */
    static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xff;
        int mantissa = bits & 0x7fffff;
        if (exponent == 0xff) {
            return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0));
        }
        int e = exponent - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            mantissa |= 0x800000;
            int shift = 14 - e;
            int half = mantissa >> shift;
            int rest = mantissa & ((1 << shift) - 1);
            int midpoint = 1 << (shift - 1);
            if (rest > midpoint || (rest == midpoint && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mantissa >> 13);
        int rest = mantissa & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++;
        }
        return (short) (sign | half);
    }

    /** A float as bfloat16 bits (its upper 16 bits), rounded to nearest even; NaN stays a (quiet) NaN. */
    static short floatToBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** bfloat16 bits as a float (exact). */
    static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** IEEE 754 half precision bits as a float (exact). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
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
        for (DType d : ALL) {
            if (d.onnxCode == code) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** Looked up per request input and output: a loop over one shared array rather than a stream over a fresh {@code values()}. */
    public static Optional<DType> fromOipName(String name) {
        for (DType d : ALL) {
            if (d.oipName.equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    public static Optional<DType> fromJavaType(OnnxJavaType type) {
        for (DType d : ALL) {
            if (d.javaType == type) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    private static final DType[] ALL = values();
}

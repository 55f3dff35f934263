package io.microkernel.training;

import io.microkernel.tensor.DType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * One input tensor of one sample: its element type, its shape without the batch dimension, and its
 * elements in row-major order.
 *
 * <p>The data array is one of {@code float[]}, {@code double[]}, {@code int[]}, {@code long[]} or
 * {@code boolean[]}, matching {@link #dtype()}. Instances are immutable by contract: the array is not
 * copied, so callers must not change it after construction. Safe to share between threads.
 */
public final class SampleTensor {

    private final DType dtype;
    private final long[] shape;
    private final Object data;

    private SampleTensor(DType dtype, long[] shape, Object data) {
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        this.data = Objects.requireNonNull(data, "data");
        long expected = elementCount(shape);
        int found = java.lang.reflect.Array.getLength(data);
        if (expected != found) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " expects " + expected
                    + " elements, found " + found);
        }
    }

    public static SampleTensor ofFloats(long[] shape, float[] data) {
        return new SampleTensor(DType.FLOAT, shape, data);
    }

    public static SampleTensor ofDoubles(long[] shape, double[] data) {
        return new SampleTensor(DType.DOUBLE, shape, data);
    }

    public static SampleTensor ofInts(long[] shape, int[] data) {
        return new SampleTensor(DType.INT32, shape, data);
    }

    public static SampleTensor ofLongs(long[] shape, long[] data) {
        return new SampleTensor(DType.INT64, shape, data);
    }

    public static SampleTensor ofBooleans(long[] shape, boolean[] data) {
        return new SampleTensor(DType.BOOL, shape, data);
    }

    /** Builds a tensor from an array whose Java type must match {@code dtype}. */
    public static SampleTensor of(DType dtype, long[] shape, Object data) {
        Class<?> expected = switch (dtype) {
            case FLOAT -> float[].class;
            case DOUBLE -> double[].class;
            case INT32 -> int[].class;
            case INT64 -> long[].class;
            case BOOL -> boolean[].class;
        };
        if (data == null || data.getClass() != expected) {
            throw new IllegalArgumentException("dtype " + dtype + " expects " + expected.getSimpleName()
                    + ", found " + (data == null ? "null" : data.getClass().getSimpleName()));
        }
        return new SampleTensor(dtype, shape, data);
    }

    public DType dtype() {
        return dtype;
    }

    /** The shape of one instance (no batch dimension); a copy. */
    public long[] shape() {
        return shape.clone();
    }

    public int elementCount() {
        return (int) elementCount(shape);
    }

    /** The element array itself (not a copy); read it, never write it. */
    public Object data() {
        return data;
    }

    /** Bytes per element of {@code dtype} in a packed buffer (booleans take one byte each). */
    static int elementBytes(DType dtype) {
        return switch (dtype) {
            case FLOAT, INT32 -> 4;
            case DOUBLE, INT64 -> 8;
            case BOOL -> 1;
        };
    }

    /**
     * Packs the elements into {@code buffer} in its byte order, {@link #elementBytes} each: the one
     * layout shared by the journal's records and the tensors handed to ORT.
     */
    void putElements(ByteBuffer buffer) {
        int start = buffer.position();
        switch (dtype) {
            case FLOAT -> buffer.asFloatBuffer().put((float[]) data);
            case DOUBLE -> buffer.asDoubleBuffer().put((double[]) data);
            case INT32 -> buffer.asIntBuffer().put((int[]) data);
            case INT64 -> buffer.asLongBuffer().put((long[]) data);
            case BOOL -> {
                for (boolean v : (boolean[]) data) {
                    buffer.put((byte) (v ? 1 : 0));
                }
            }
        }
        // View buffers leave the byte buffer's position where it was.
        buffer.position(start + elementBytes(dtype) * elementCount());
    }

    /** Reads {@code count} elements packed by {@link #putElements} into a new array of {@code dtype}'s Java type. */
    static Object takeElements(ByteBuffer buffer, DType dtype, int count) {
        int start = buffer.position();
        Object data = switch (dtype) {
            case FLOAT -> {
                float[] a = new float[count];
                buffer.asFloatBuffer().get(a);
                yield a;
            }
            case DOUBLE -> {
                double[] a = new double[count];
                buffer.asDoubleBuffer().get(a);
                yield a;
            }
            case INT32 -> {
                int[] a = new int[count];
                buffer.asIntBuffer().get(a);
                yield a;
            }
            case INT64 -> {
                long[] a = new long[count];
                buffer.asLongBuffer().get(a);
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[count];
                for (int i = 0; i < count; i++) {
                    a[i] = buffer.get() != 0;
                }
                yield a;
            }
        };
        // View buffers leave the byte buffer's position where it was.
        buffer.position(start + elementBytes(dtype) * count);
        return data;
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("a sample's shape has no dynamic dimension, found "
                        + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for one sample");
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SampleTensor other)) {
            return false;
        }
        return dtype == other.dtype && Arrays.equals(shape, other.shape)
                && Arrays.deepEquals(new Object[] {data}, new Object[] {other.data});
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.deepHashCode(new Object[] {data}));
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}

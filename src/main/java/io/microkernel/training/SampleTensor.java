package io.microkernel.training;

import io.microkernel.artifacts.DType;
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

package io.microkernel.serving;

import io.microkernel.tensor.DType;
import io.microkernel.tensor.TensorSpec;
import java.util.Arrays;
import java.util.List;

/**
 * One validated input tensor: the model's spec, the concrete shape and the elements in row-major
 * order as a primitive array ({@code float[]}, {@code double[]}, {@code int[]}, {@code long[]} or
 * {@code boolean[]}, matching {@link TensorSpec#dtype()}).
 *
 * <p>Made only by {@link RequestTranslator}, so every instance fits its spec. Not thread-safe to
 * mutate; the arrays it returns are its own, do not change them.
 */
public final class InputTensor {

    private final TensorSpec spec;
    private final long[] shape;
    private final Object data;

    InputTensor(TensorSpec spec, long[] shape, Object data) {
        this.spec = spec;
        this.shape = shape;
        this.data = data;
    }

    public TensorSpec spec() {
        return spec;
    }

    public String name() {
        return spec.name();
    }

    public DType dtype() {
        return spec.dtype();
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Instances in the batch: the first dimension (1 for a scalar input). */
    public int batchSize() {
        return shape.length == 0 ? 1 : (int) shape[0];
    }

    /** The elements as the primitive array of {@link #dtype()}. */
    public Object data() {
        return data;
    }

    public float[] floats() {
        return (float[]) data;
    }

    public double[] doubles() {
        return (double[]) data;
    }

    public int[] ints() {
        return (int[]) data;
    }

    public long[] longs() {
        return (long[]) data;
    }

    public boolean[] booleans() {
        return (boolean[]) data;
    }

    /** The shape as {@code [2,4]}, the way error messages print shapes. */
    public String shapeText() {
        return RequestTranslator.shapeText(Arrays.stream(shape).boxed().toList());
    }

    @Override
    public String toString() {
        return "InputTensor[" + spec.name() + " " + spec.dtype().oipName() + " " + shapeText() + "]";
    }

    static List<Long> shapeList(long[] shape) {
        return Arrays.stream(shape).boxed().toList();
    }
}

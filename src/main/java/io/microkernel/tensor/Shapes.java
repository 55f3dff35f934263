package io.microkernel.tensor;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/** The one place that counts a shape's elements and prints a shape. Stateless and thread-safe. */
public final class Shapes {

    private Shapes() {
    }

    /**
     * Elements of a concrete shape (the product of its dimensions; 1 for a scalar).
     *
     * @throws IllegalArgumentException when a dimension is negative (dynamic) or the product overflows a long
     */
    public static long elementCount(long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("expected a concrete shape, found the dynamic shape " + text(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("expected a shape of at most " + Long.MAX_VALUE
                        + " elements, found " + text(shape), e);
            }
        }
        return n;
    }

    /** Elements of a concrete shape that must fit one Java buffer. */
    public static int elementCountInt(long... shape) {
        long n = elementCount(shape);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("expected at most " + Integer.MAX_VALUE + " elements, found shape "
                    + text(shape));
        }
        return (int) n;
    }

    // Loops rather than streams: both run for every input and output of every request.

    public static long[] toArray(List<Long> shape) {
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i);
        }
        return dims;
    }

    /** The shape as an unmodifiable list. */
    public static List<Long> toList(long[] shape) {
        Long[] dims = new Long[shape.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape[i];
        }
        return List.of(dims);
    }

    /** The shape as {@code [-1,16,16]}, the way error messages print shapes. */
    public static String text(long... shape) {
        return LongStream.of(shape).mapToObj(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    /** The shape as {@code [-1,16,16]}; {@code null} dimensions print as {@code null}. */
    public static String text(List<Long> shape) {
        return shape.stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    /** {@code shape} without its first (batch) dimension. */
    public static long[] withoutBatch(long[] shape) {
        return shape.length == 0 ? shape.clone() : Arrays.copyOfRange(shape, 1, shape.length);
    }

    /** {@code instance} with {@code batch} in front. */
    public static long[] withBatch(long batch, long[] instance) {
        long[] shape = new long[instance.length + 1];
        shape[0] = batch;
        System.arraycopy(instance, 0, shape, 1, instance.length);
        return shape;
    }
}

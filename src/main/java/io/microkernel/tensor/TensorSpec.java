package io.microkernel.tensor;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A named tensor's element type and shape; {@code -1} marks a dynamic dimension (usually the batch).
 */
public record TensorSpec(String name, DType dtype, List<Long> shape) {

    public TensorSpec {
        shape = List.copyOf(shape);
    }

    /** The shape as {@code [-1,16,16]}, the way error messages print shapes. */
    public String shapeText() {
        return shape.stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    /** Elements per instance: the product of every dimension after the first, which is the batch. */
    public long elementsPerInstance() {
        long n = 1;
        for (int i = 1; i < shape.size(); i++) {
            n *= Math.max(1, shape.get(i));
        }
        return n;
    }
}

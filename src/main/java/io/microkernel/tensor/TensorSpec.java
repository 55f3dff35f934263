package io.microkernel.tensor;

import java.util.List;

/**
 * A named tensor's element type and shape; {@code -1} marks a dynamic dimension (usually the batch).
 */
public record TensorSpec(String name, DType dtype, List<Long> shape) {

    public TensorSpec {
        shape = List.copyOf(shape);
    }

    /** The shape as {@code [-1,16,16]}, the way error messages print shapes. */
    public String shapeText() {
        return Shapes.text(shape);
    }
}

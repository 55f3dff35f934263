package io.microkernel.tensor;

import java.util.Objects;

/**
 * A tensor with the graph input or output name it belongs to. Immutable and thread-safe.
 *
 * @param name   the graph input or output name
 * @param tensor the value
 */
public record NamedTensor(String name, Tensor tensor) {

    public NamedTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tensor, "tensor");
    }

    @Override
    public String toString() {
        return name + " " + tensor;
    }
}

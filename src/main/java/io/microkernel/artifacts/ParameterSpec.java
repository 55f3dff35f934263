package io.microkernel.artifacts;

import java.util.List;

/** One parameter of the checkpoint: its name, shape and number of elements. */
public record ParameterSpec(String name, List<Long> shape, long count) {

    public ParameterSpec {
        shape = List.copyOf(shape);
    }
}

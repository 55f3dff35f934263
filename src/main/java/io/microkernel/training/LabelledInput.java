package io.microkernel.training;

import io.microkernel.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A validated sample before the journal gives it an id: input tensors by input name (each one
 * instance, without the batch dimension), and the label.
 * Immutable; safe to share between threads.
 */
public record LabelledInput(Map<String, Tensor> inputs, SampleLabel label) {

    public LabelledInput {
        Objects.requireNonNull(label, "label");
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("a sample needs at least one input");
        }
        inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
    }
}

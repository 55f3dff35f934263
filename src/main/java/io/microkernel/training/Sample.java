package io.microkernel.training;

import io.microkernel.tensor.Tensor;
import java.util.Map;

/**
 * A sample as the journal keeps it: its id (increasing in arrival order), when it arrived, its
 * inputs and its label. Immutable; safe to share between threads.
 */
public record Sample(long id, long receivedAtMillis, Map<String, Tensor> inputs, SampleLabel label) {

    public Sample {
        inputs = new LabelledInput(inputs, label).inputs();
    }
}

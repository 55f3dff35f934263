package io.microkernel.serving;

import io.microkernel.tensor.NamedTensor;
import java.util.List;

/**
 * The answer of one model run. Immutable and thread-safe.
 *
 * @param version         the model version that answered
 * @param outputs         every graph output, in the model's output order
 * @param classifications one per batch row when the model is a classifier, else empty
 */
public record Prediction(int version, List<NamedTensor> outputs, List<Classification> classifications) {

    public Prediction {
        outputs = List.copyOf(outputs);
        classifications = List.copyOf(classifications);
    }

    public boolean isClassification() {
        return !classifications.isEmpty();
    }
}

package io.microkernel.feedback;

import io.microkernel.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * One logged prediction: what a request sent, which version answered and what it predicted.
 *
 * @param id          the prediction id the response carried
 * @param atMillis    when it was served (epoch milliseconds)
 * @param version     the version that answered
 * @param rows        per batch row, the inputs by name (each without the batch dimension)
 * @param predicted   per batch row, the predicted class index; empty for a model that is no classifier
 */
public record LoggedPrediction(String id, long atMillis, int version, List<Map<String, Tensor>> rows,
        List<Integer> predicted) {

    public LoggedPrediction {
        rows = List.copyOf(rows);
        predicted = List.copyOf(predicted);
    }
}

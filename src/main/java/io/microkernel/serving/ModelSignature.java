package io.microkernel.serving;

import io.microkernel.tensor.TensorSpec;
import java.util.List;
import java.util.Optional;

/**
 * What a loaded model takes and gives, read from its ONNX Runtime session, plus the class names of
 * its version. Immutable.
 *
 * @param inputs       the graph inputs in session order; dynamic dimensions are {@code -1}
 * @param outputs      the graph outputs in session order
 * @param classNames   class names of a classifier (empty for regression)
 * @param scoresOutput the output whose rows are class scores, when the model is a classifier
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs, List<String> classNames,
        Optional<String> scoresOutput) {

    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        classNames = List.copyOf(classNames);
    }
}

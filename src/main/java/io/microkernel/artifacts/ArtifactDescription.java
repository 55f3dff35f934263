package io.microkernel.artifacts;

import io.microkernel.tensor.TensorSpec;
import java.util.List;

/**
 * What an artifact set is, derived from its graphs and checkpoint (and the optional manifest).
 *
 * @param inputs          the user inputs, in the training session's order
 * @param label           the label input of the training and eval graphs
 * @param loss            the loss kind, read from the graph
 * @param inferenceOutput the tensor {@code exportModelForInference} is asked for
 * @param trainable       parameters the optimizer updates
 * @param frozen          parameters that stay as they are
 * @param numClasses      classes of a cross-entropy model; 0 for MSE
 * @param classNames      class names from the manifest, else {@code "0".."n-1"}; empty for MSE
 */
public record ArtifactDescription(
        List<TensorSpec> inputs,
        TensorSpec label,
        LossKind loss,
        String inferenceOutput,
        List<ParameterSpec> trainable,
        List<ParameterSpec> frozen,
        int numClasses,
        List<String> classNames) {

    public ArtifactDescription {
        inputs = List.copyOf(inputs);
        trainable = List.copyOf(trainable);
        frozen = List.copyOf(frozen);
        classNames = List.copyOf(classNames);
    }

    public long trainableCount() {
        return trainable.stream().mapToLong(ParameterSpec::count).sum();
    }

    public long frozenCount() {
        return frozen.stream().mapToLong(ParameterSpec::count).sum();
    }
}

package io.microkernel.serving;

/**
 * The predicted class of one batch row of a classifier.
 *
 * @param index     the index of the highest score
 * @param className the class name from the version's manifest, or the index as text when unnamed
 * @param scores    the row of the scores output, one per class
 */
public record Classification(int index, String className, double[] scores) {
}

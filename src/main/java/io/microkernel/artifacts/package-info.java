/**
 * Opening, describing and validating ONNX Runtime training artifact sets (Python-made or the
 * project's own): inputs, label, loss, inference output, trainable and frozen parameters, classes;
 * reading ONNX models and exporting the inference graph.
 *
 * <p>This is what the server needs of a set. Building sets belongs in {@code compiler}; the demo task
 * in {@code demo}.
 */
package io.microkernel.artifacts;

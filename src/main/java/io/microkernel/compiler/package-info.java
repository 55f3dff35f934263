/**
 * A pure-Java compiler from an inference ONNX model to a standard training artifact set: reverse-mode
 * autodiff into ONNX gradient ops, the AdamW optimizer graph, the eval graph and the checkpoint.
 *
 * <p>A tool beside the server, used by the command line and tests; the server never imports it.
 * The {@code OrtEnvironment} it needs (for shape inference) is passed in, never looked up.
 */
package io.microkernel.compiler;

/**
 * ONNX Runtime in the JVM: selecting and loading the training-enabled native library, checking its
 * version and training support, and the one {@code OrtEnvironment} of the process.
 *
 * <p>The environment has one owner: CDI in the server, an explicit argument in the tools.
 */
package io.microkernel.runtime;

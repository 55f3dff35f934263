/**
 * The single-file FlatBuffers checkpoint of ONNX Runtime training ({@code ODTC}): reading and
 * writing parameters and optimizer state without the native library.
 */
package io.microkernel.artifacts.checkpoint;

/**
 * The one tensor value type used from the HTTP edge to ONNX Runtime and back, for requests, outputs,
 * samples and batches: element type, shape and a direct buffer; plus tensor specs of model inputs.
 *
 * <p>Must not be here: anything that knows about models, requests or HTTP.
 */
package io.microkernel.tensor;

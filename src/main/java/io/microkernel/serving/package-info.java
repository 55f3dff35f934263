/**
 * The served model: the active version loaded in an ONNX Runtime session, swapped atomically and
 * reference counted so a session is never closed while a request uses it; request validation against
 * the model's inputs; start-up (bootstrap, load, warm) and serving metrics.
 *
 * <p>Must not be here: anything about HTTP (the {@code api} package translates), training.
 */
package io.microkernel.serving;

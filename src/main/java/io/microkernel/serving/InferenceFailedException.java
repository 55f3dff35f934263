package io.microkernel.serving;

/** ONNX Runtime failed on an input that passed validation, for a reason that is not the input's. */
public class InferenceFailedException extends RuntimeException {

    public InferenceFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.microkernel.serving;

/** No model version is loaded yet (start-up, or no artifact set to bootstrap from). */
public class ModelNotReadyException extends RuntimeException {

    public ModelNotReadyException(String message) {
        super(message);
    }
}

package io.microkernel.training;

/** A round stopped because it was asked to; nothing was published. */
public class RoundCancelledException extends RuntimeException {

    public RoundCancelledException(String message) {
        super(message);
    }
}

package io.microkernel.training;

/** A round could not finish (a native error, a broken artifact set, a disk error); nothing was published. */
public class RoundFailedException extends RuntimeException {

    public RoundFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}

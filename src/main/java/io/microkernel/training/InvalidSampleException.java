package io.microkernel.training;

/** A sample or a batch of samples the training side cannot take; the message says what was expected and found. */
public class InvalidSampleException extends RuntimeException {

    public InvalidSampleException(String message) {
        super(message);
    }
}

package io.microkernel.training;

/** A round request with a setting out of range; the message says what was expected and found. */
public class InvalidRoundRequestException extends RuntimeException {

    public InvalidRoundRequestException(String message) {
        super(message);
    }
}

package io.microkernel.api;

/** A request needs the API token and did not carry a valid one. */
public class AccessDeniedException extends RuntimeException {

    public AccessDeniedException(String message) {
        super(message);
    }
}

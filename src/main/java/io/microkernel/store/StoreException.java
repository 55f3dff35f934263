package io.microkernel.store;

/** The model store cannot be read or written; the message says which file and why. */
public class StoreException extends RuntimeException {

    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}

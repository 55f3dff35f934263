package io.microkernel.serving;

/** A model version cannot be loaded or fails its warm-up run; the message gives cause and remedy. */
public class ModelLoadException extends RuntimeException {

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}

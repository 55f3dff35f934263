package io.microkernel.api;

/** A path names a model this server does not serve. */
public class UnknownModelException extends RuntimeException {

    public UnknownModelException(String expected, String found) {
        super("expected model '" + expected + "', found '" + found + "'");
    }
}

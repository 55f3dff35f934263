package io.microkernel.training;

/** No round with the requested id exists. */
public class RoundNotFoundException extends RuntimeException {

    public RoundNotFoundException(long id, long newest) {
        super("round " + id + " does not exist: expected an id in [1, " + newest + "], found " + id);
    }
}

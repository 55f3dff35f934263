package io.microkernel.training;

/** A round cannot start now: another one is running, or there are not enough samples. */
public class RoundConflictException extends RuntimeException {

    private final Long runningRound;

    public RoundConflictException(String message, Long runningRound) {
        super(message);
        this.runningRound = runningRound;
    }

    /** The id of the round that is running, when that is the conflict. */
    public java.util.OptionalLong runningRound() {
        return runningRound == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(runningRound);
    }
}

package io.microkernel.training;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.OptionalLong;

/** A round cannot start now: another one is running, or there are not enough samples. */
public class RoundConflictException extends ProblemException {

    private final Long runningRound;

    public RoundConflictException(String message, Long runningRound) {
        super(ProblemType.ROUND_CONFLICT, message);
        this.runningRound = runningRound;
    }

    /** The id of the round that is running, when that is the conflict. */
    public OptionalLong runningRound() {
        return runningRound == null ? OptionalLong.empty() : OptionalLong.of(runningRound);
    }
}

package io.microkernel.training;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;

/** A round stopped because it was asked to; nothing was published. Caught by type: it ends a round as cancelled, not failed. */
public class RoundCancelledException extends ProblemException {

    public RoundCancelledException(String message) {
        super(ProblemType.ROUND_CANCELLED, message);
    }
}

package io.microkernel.training;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;

/** An {@code Idempotency-Key} sent again with different samples: a client bug, refused with 422. */
public final class IdempotencyKeyReusedException extends ProblemException {

    private static final long serialVersionUID = 1L;

    public IdempotencyKeyReusedException(String message) {
        super(ProblemType.IDEMPOTENCY_KEY_REUSED, message);
    }
}

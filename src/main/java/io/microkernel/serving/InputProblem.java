package io.microkernel.serving;

import io.microkernel.problem.ProblemType;

/** What is wrong with a request's inputs; each kind is one {@link ProblemType}. */
public enum InputProblem {
    UNKNOWN_INPUT(ProblemType.UNKNOWN_INPUT),
    MISSING_INPUT(ProblemType.MISSING_INPUT),
    DUPLICATE_INPUT(ProblemType.DUPLICATE_INPUT),
    WRONG_SHAPE(ProblemType.WRONG_SHAPE),
    WRONG_DATATYPE(ProblemType.WRONG_DATATYPE),
    DATA_LENGTH_MISMATCH(ProblemType.DATA_LENGTH_MISMATCH),
    NOT_FINITE(ProblemType.NOT_FINITE),
    NOT_NUMERIC(ProblemType.NOT_NUMERIC),
    EMPTY_BATCH(ProblemType.EMPTY_BATCH),
    BATCH_TOO_LARGE(ProblemType.BATCH_TOO_LARGE),
    MALFORMED(ProblemType.MALFORMED_REQUEST),
    REJECTED_BY_MODEL(ProblemType.REJECTED_BY_MODEL);

    private final ProblemType type;

    InputProblem(ProblemType type) {
        this.type = type;
    }

    public ProblemType type() {
        return type;
    }

    public String slug() {
        return type.slug();
    }

    public String title() {
        return type.title();
    }
}

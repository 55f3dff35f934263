package io.microkernel.serving;

import io.microkernel.problem.ProblemException;

/**
 * A request's input does not fit the model; the message says what was expected and what was found.
 * Its problem type is the {@link InputProblem}'s, a 4xx.
 */
public class InputValidationException extends ProblemException {

    private final InputProblem problem;

    public InputValidationException(InputProblem problem, String detail) {
        super(problem.type(), detail);
        this.problem = problem;
    }

    public InputProblem problem() {
        return problem;
    }
}

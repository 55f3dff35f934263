package io.microkernel.serving;

/**
 * A request's input does not fit the model; the message says what was expected and what was found.
 * The HTTP layer answers it with a 4xx problem.
 */
public class InputValidationException extends RuntimeException {

    private final InputProblem problem;

    public InputValidationException(InputProblem problem, String detail) {
        super(detail);
        this.problem = problem;
    }

    public InputProblem problem() {
        return problem;
    }
}

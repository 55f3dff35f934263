package io.microkernel.training;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;

/**
 * A sample or a batch of samples the training side cannot take; the message says what was expected
 * and found. Caught by type where a batch is counted as rejected.
 */
public class InvalidSampleException extends ProblemException {

    public InvalidSampleException(String message) {
        super(ProblemType.INVALID_SAMPLE, message);
    }
}

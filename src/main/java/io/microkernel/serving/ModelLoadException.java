package io.microkernel.serving;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;

/**
 * A model version cannot be loaded or fails its warm-up run; the message gives cause and remedy.
 * Caught by type where serving falls back to another version.
 */
public class ModelLoadException extends ProblemException {

    public ModelLoadException(String message) {
        super(ProblemType.VERSION_DOES_NOT_LOAD, message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(ProblemType.VERSION_DOES_NOT_LOAD, message, cause);
    }
}

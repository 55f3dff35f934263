package io.microkernel.runtime;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;

/** The ONNX Runtime could not be set up; carries the cause and the remedy in one line. */
public class RuntimeSetupException extends ProblemException {

    private final String remedy;

    public RuntimeSetupException(String cause, String remedy) {
        super(ProblemType.RUNTIME_SETUP, cause + "; remedy: " + remedy);
        this.remedy = remedy;
    }

    public String remedy() {
        return remedy;
    }
}

package io.microkernel.serving;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;

/** ONNX Runtime failed on an input that passed validation, for a reason that is not the input's. */
public class InferenceFailedException extends ProblemException {

    public InferenceFailedException(String message, Throwable cause) {
        super(ProblemType.INFERENCE_FAILED, message, cause);
    }
}

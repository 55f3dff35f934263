package io.microkernel.serving;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.Map;

/**
 * No model version is loaded yet (start-up, or no artifact set to bootstrap from). Answers tell
 * clients to retry after {@value #RETRY_AFTER_SECONDS} seconds. Caught by type where a missing
 * model is an expected state rather than an error.
 */
public class ModelNotReadyException extends ProblemException {

    static final int RETRY_AFTER_SECONDS = 5;

    public ModelNotReadyException(String message) {
        super(ProblemType.MODEL_NOT_READY, message, null, Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }
}

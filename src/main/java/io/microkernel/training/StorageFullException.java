package io.microkernel.training;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.Map;

/**
 * The data disk is full, so samples could not be stored; nothing of the batch was acknowledged.
 * The journal recovers by itself: the next append after space is freed is written as usual.
 */
public class StorageFullException extends ProblemException {

    public StorageFullException(String message, long retryAfterSeconds, Throwable cause) {
        super(ProblemType.INSUFFICIENT_STORAGE, message, cause, Map.of("Retry-After", Long.toString(retryAfterSeconds)));
    }
}

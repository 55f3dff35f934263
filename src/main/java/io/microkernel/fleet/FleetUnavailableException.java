package io.microkernel.fleet;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.Map;

/**
 * NATS cannot be reached (or did not acknowledge in time): nothing that needed it was done. The
 * client should retry after {@link #RETRY_AFTER_SECONDS}; serving goes on meanwhile.
 */
public class FleetUnavailableException extends ProblemException {

    static final long RETRY_AFTER_SECONDS = 5;

    public FleetUnavailableException(String detail, Throwable cause) {
        super(ProblemType.FLEET_UNAVAILABLE, detail, cause, Map.of("Retry-After", Long.toString(RETRY_AFTER_SECONDS)));
    }
}

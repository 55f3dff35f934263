package io.microkernel.training;

import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.util.Map;

/**
 * The sample buffer holds {@code microkernel.training.buffer.max-samples} samples and none can be
 * retired yet; the client should retry after {@link #retryAfterSeconds()} (the answer's
 * {@code Retry-After}).
 */
public class SampleBufferFullException extends ProblemException {

    private final long retryAfterSeconds;

    public SampleBufferFullException(String message, long retryAfterSeconds) {
        super(ProblemType.SAMPLE_BUFFER_FULL, message, null, Map.of("Retry-After", Long.toString(retryAfterSeconds)));
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}

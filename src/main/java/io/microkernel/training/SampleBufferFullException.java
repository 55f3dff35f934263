package io.microkernel.training;

/**
 * The sample buffer holds {@code microkernel.training.buffer.max-samples} samples and none can be
 * retired yet; the client should retry after {@link #retryAfterSeconds()}.
 */
public class SampleBufferFullException extends RuntimeException {

    private final long retryAfterSeconds;

    public SampleBufferFullException(String message, long retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}

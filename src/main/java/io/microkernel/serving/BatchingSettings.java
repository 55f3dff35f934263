package io.microkernel.serving;

import java.time.Duration;

/**
 * How {@link DynamicBatcher} gathers requests ({@code microkernel.serving.batching.*}). Immutable.
 *
 * @param enabled        whether concurrent requests are gathered at all
 * @param maxRows        the most rows one gathered run takes; a request with more runs alone
 * @param maxQueueDelay  how long a free run slot waits, while other runs are in progress, for more
 *                       queued requests to fill its batch (counted from the oldest one's arrival); 0: never
 * @param concurrentRuns runs of one model at once (at least 1); a request that finds them all busy queues
 */
public record BatchingSettings(boolean enabled, int maxRows, Duration maxQueueDelay, int concurrentRuns) {

    /** Every request runs on its own, as it comes. */
    public static final BatchingSettings OFF = new BatchingSettings(false, 1, Duration.ZERO, 1);

    public BatchingSettings {
        if (maxRows < 1 || concurrentRuns < 1 || maxQueueDelay.isNegative()) {
            throw new IllegalArgumentException("batching: expected max rows and concurrent runs of at least 1 and a delay"
                    + " of 0 or more, found " + maxRows + ", " + concurrentRuns + " and " + maxQueueDelay);
        }
    }

    /** Settings from configuration, where 0 concurrent runs means the cores divided by the intra-op threads. */
    public static BatchingSettings of(boolean enabled, int maxRows, Duration maxQueueDelay, int concurrentRuns,
            int intraOpThreads) {
        int runs = concurrentRuns > 0 ? concurrentRuns
                : Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, intraOpThreads));
        return new BatchingSettings(enabled, maxRows, maxQueueDelay, runs);
    }
}

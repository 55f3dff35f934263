package io.microkernel.training;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;

/**
 * Where a training round gives way to serving. Between units of its work (optimizer steps, holdout
 * batches, sessions it opens, the export) a round calls {@link #pause()}; while serving has work in
 * flight (the pressure signal, {@code ServedModel.requestsInFlight()}) the round's thread waits,
 * reading the signal every {@link #POLL_NANOS}, until serving has none or {@code maxWait} has
 * passed. The cap is per pause, so a round under constant load still finishes: it loses at most
 * {@code maxWait} per unit of work.
 *
 * <p>Configured by {@code microkernel.training.round-priority.yield-to-serving} and
 * {@code .yield-max-wait}. The totals ({@link #pauses()}, {@link #waited()}) say how often and how
 * long the round waited.
 *
 * <p>One round's thread calls {@link #pause()}; the totals may be read from any thread.
 */
public final class ServingYield {

    /** How often a waiting round reads the signal again. */
    static final long POLL_NANOS = 200_000;

    /** Never waits: the signal is not read. */
    public static final ServingYield OFF = new ServingYield(() -> 0, Duration.ZERO, Waiter.SYSTEM);

    /** How a pause waits; tests drive time themselves. */
    interface Waiter {
        long nanoTime();

        void waitNanos(long nanos);

        Waiter SYSTEM = new Waiter() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public void waitNanos(long nanos) {
                LockSupport.parkNanos(nanos);
            }
        };
    }

    private final IntSupplier inFlight;
    private final long maxWaitNanos;
    private final Waiter waiter;
    private volatile long pauses;
    private volatile long waitedNanos;

    /**
     * @param inFlight serving work in flight now (0 = serving is idle)
     * @param maxWait  the longest one pause waits; zero never waits
     */
    public ServingYield(IntSupplier inFlight, Duration maxWait) {
        this(inFlight, maxWait, Waiter.SYSTEM);
    }

    ServingYield(IntSupplier inFlight, Duration maxWait, Waiter waiter) {
        this.inFlight = inFlight;
        this.maxWaitNanos = Math.max(0, maxWait.toNanos());
        this.waiter = waiter;
    }

    /** Whether {@link #pause()} may wait at all. */
    public boolean enabled() {
        return maxWaitNanos > 0;
    }

    /**
     * Waits while serving has work in flight, at most {@code maxWait}; returns at once when it has none.
     * Keeps the thread's interrupt status.
     */
    public void pause() {
        if (maxWaitNanos == 0 || inFlight.getAsInt() <= 0) {
            return;
        }
        long start = waiter.nanoTime();
        long deadline = start + maxWaitNanos;
        long now = start;
        while (inFlight.getAsInt() > 0 && now - deadline < 0 && !Thread.currentThread().isInterrupted()) {
            waiter.waitNanos(Math.min(POLL_NANOS, deadline - now));
            now = waiter.nanoTime();
        }
        // Only the round's own thread writes these.
        pauses = pauses + 1;
        waitedNanos = waitedNanos + (now - start);
    }

    /** Pauses that found serving busy and waited. */
    public long pauses() {
        return pauses;
    }

    /** The time those pauses waited, together. */
    public Duration waited() {
        return Duration.ofNanos(waitedNanos);
    }
}

package io.microkernel.training;

/**
 * Where training rounds run. In single-node mode ({@link #LOCAL}) always here; in fleet mode only
 * on the replica holding the trainer lease, and a round asked for (or cancelled) elsewhere is
 * forwarded there.
 * Implementations are thread-safe.
 */
public interface RoundRouting {

    RoundRouting LOCAL = new RoundRouting() {
        @Override
        public boolean trainsHere() {
            return true;
        }

        @Override
        public RoundRecord forward(String trigger, RoundOverrides overrides) {
            throw new IllegalStateException("rounds run here in single-node mode");
        }

        @Override
        public RoundRecord forwardCancel(long id) {
            throw new IllegalStateException("rounds run here in single-node mode");
        }
    };

    /** Whether this process runs rounds now. */
    boolean trainsHere();

    /**
     * Has the trainer start a round and returns its record as queued there.
     *
     * @throws io.microkernel.problem.ProblemException as the trainer answered (409, 503 ...)
     */
    RoundRecord forward(String trigger, RoundOverrides overrides);

    /**
     * Has the trainer cancel a round and returns its record as it is there, with the answers a single
     * node gives: the round's record when a queued or running round was asked to stop.
     *
     * @throws io.microkernel.problem.ProblemException as the trainer answered: unknown-round (404),
     *         round-conflict (409) when the round already finished, fleet-unavailable (503)
     */
    RoundRecord forwardCancel(long id);
}

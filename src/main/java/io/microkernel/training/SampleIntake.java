package io.microkernel.training;

import java.util.List;

/**
 * Where accepted samples go before the client hears 202: the local journal (single-node mode) or
 * the fleet's sample stream. Implementations are thread-safe.
 */
@FunctionalInterface
public interface SampleIntake {

    /**
     * Stores a batch durably (under a client's idempotency key, or null) and returns the stored
     * samples with their ids.
     *
     * @throws SampleBufferFullException when there is no room
     * @throws InvalidSampleException when the batch is empty or larger than the buffer
     */
    SampleJournal.Appended accept(List<LabelledInput> batch, String idempotencyKey);
}

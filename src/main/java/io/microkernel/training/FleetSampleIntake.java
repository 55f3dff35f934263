package io.microkernel.training;

import io.microkernel.fleet.SampleStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * Samples in fleet mode: a request's samples go to the fleet's sample stream (202 only after
 * JetStream acknowledged each), and every replica's journal is filled from that stream, the stream
 * sequence being the sample's id. A client's Idempotency-Key and the batch's content make the
 * message ids, so a retry stores nothing twice; the same key with other samples stores them as new
 * samples (single-node mode answers 422 there).
 *
 * <p>Thread-safe.
 */
final class FleetSampleIntake implements SampleIntake {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(FleetSampleIntake.class);

    private final SampleStream stream;
    private final int maxSamples;
    private final long retryAfterSeconds;

    FleetSampleIntake(SampleStream stream, int maxSamples, long retryAfterSeconds) {
        this.stream = stream;
        this.maxSamples = maxSamples;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    public SampleJournal.Appended accept(List<LabelledInput> batch, String idempotencyKey) {
        if (batch.isEmpty()) {
            throw new InvalidSampleException("expected at least one sample, found 0");
        }
        if (batch.size() > maxSamples) {
            throw new InvalidSampleException("expected at most " + maxSamples + " samples in one request (the buffer"
                    + " size), found " + batch.size());
        }
        String base = idempotencyKey == null ? UUID.randomUUID().toString() : messageIdBase(idempotencyKey, batch);
        long now = System.currentTimeMillis();
        List<byte[]> payloads = new ArrayList<>(batch.size());
        List<String> ids = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            LabelledInput input = batch.get(i);
            payloads.add(SampleCodec.encode(new Sample(0, now, input.inputs(), input.label())));
            ids.add(base + "-" + i);
        }
        List<SampleStream.Stored> stored;
        try {
            stored = stream.publish(payloads, ids);
        } catch (SampleStream.FullException e) {
            throw new SampleBufferFullException(e.getMessage() + "; expected room for " + batch.size() + " more",
                    retryAfterSeconds);
        }
        List<Sample> samples = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            LabelledInput input = batch.get(i);
            samples.add(new Sample(stored.get(i).sequence(), now, input.inputs(), input.label()));
        }
        boolean replayed = stored.stream().allMatch(SampleStream.Stored::duplicate);
        return new SampleJournal.Appended(List.copyOf(samples), replayed);
    }

    private static String messageIdBase(String key, List<LabelledInput> batch) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(key.getBytes(StandardCharsets.UTF_8));
            digest.update(IdempotencyRecord.fingerprint(batch));
            return "k" + HexFormat.of().formatHex(digest.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    /**
     * Fills {@code journal} from the stream, in order, from the newest id it holds on, until {@code stop}
     * says so (on the caller's thread); a batch read twice stores nothing twice. {@code onNew} runs
     * after samples were added.
     */
    static void consume(SampleStream stream, SampleJournal journal, Runnable onNew, java.util.function.BooleanSupplier stop) {
        stream.consume(journal::lastId, batch -> {
            List<Sample> samples = new ArrayList<>(batch.size());
            for (SampleStream.Delivered message : batch) {
                decode(message).ifPresent(samples::add);
            }
            if (journal.appendReplicated(samples) > 0) {
                onNew.run();
            }
        }, stop);
    }

    /** The sample of a message; empty (and a log line) for one no replica could read, so it cannot block the rest. */
    private static java.util.Optional<Sample> decode(SampleStream.Delivered message) {
        byte[] record = message.payload();
        try {
            Sample sample = SampleCodec.decodePayload(Arrays.copyOfRange(record, SampleCodec.HEADER_BYTES, record.length));
            return java.util.Optional.of(new Sample(message.sequence(), sample.receivedAtMillis(), sample.inputs(),
                    sample.label()));
        } catch (IOException | RuntimeException e) {
            LOG.warnf("fleet: skipping sample message %d: expected a sample record, found %s", message.sequence(),
                    e.getMessage());
            return java.util.Optional.empty();
        }
    }
}

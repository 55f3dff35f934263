package io.microkernel.fleet;

import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.PublishOptions;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * The model's durable sample stream: one message per labelled sample, its stream sequence being the
 * sample's id on every replica (so the holdout split, a function of the id, agrees fleet-wide).
 * Publishing waits for JetStream's acknowledgement; a message id per sample makes a retried request
 * store nothing twice. The stream holds at most {@code maxSamples} messages and refuses more (the
 * caller answers 429). Every replica copies the whole stream, in order, into its own journal.
 *
 * <p>Thread-safe.
 */
public final class SampleStream {

    private static final Logger LOG = Logger.getLogger(SampleStream.class);
    /** JetStream's code for "maximum messages (or bytes) exceeded" on a stream that discards new messages. */
    static final int STREAM_FULL = 10077;
    /** JetStream's code for "no message found" at a sequence (purged or deleted). */
    static final int NO_MESSAGE = 10037;

    /** One stored message: its sequence, and whether an earlier publish with its id had stored it already. */
    public record Stored(long sequence, boolean duplicate) {
    }

    /** What a replica does with each message; it must be idempotent (redelivery happens). */
    @FunctionalInterface
    public interface Handler {
        /** Applies the messages of one batch, in stream order; a thrown exception has the batch read again. */
        void accept(List<Delivered> batch) throws Exception;
    }

    /** A message as delivered: stream sequence and payload. */
    public record Delivered(long sequence, byte[] payload) {
    }

    /** The stream has no room: the caller answers 429 with Retry-After. */
    public static final class FullException extends RuntimeException {
        public FullException(String message) {
            super(message);
        }
    }

    private final FleetConnection connection;
    private final FleetSettings settings;
    private volatile boolean ready;
    private volatile String lastProblem;

    public SampleStream(FleetConnection connection) {
        this.connection = connection;
        this.settings = connection.settings();
    }

    /** Creates the stream when missing (or updates its limits); called again after each reconnect. */
    synchronized void ensure() throws IOException, JetStreamApiException {
        StreamConfiguration config = StreamConfiguration.builder().name(settings.samplesStream())
                .subjects(settings.samplesSubject()).storageType(StorageType.File)
                .maxMessages(settings.maxSamples()).discardPolicy(DiscardPolicy.New)
                .duplicateWindow(settings.duplicateWindow()).build();
        connection.createOrUpdateStream(config);
        ready = true;
    }

    /**
     * Publishes one message per payload and waits for every acknowledgement.
     *
     * @param messageIds one id per payload; a retry with the same ids stores nothing new
     * @throws FullException when the stream refuses a message for lack of room
     * @throws FleetUnavailableException when NATS is unreachable or does not answer in time
     */
    public List<Stored> publish(List<byte[]> payloads, List<String> messageIds) {
        requireConnected("store samples");
        try {
            if (!ready) {
                ensure();
            }
            long held = count();
            if (held + payloads.size() > settings.maxSamples()) {
                // Refused whole, so a batch is never half stored; a race past this check meets the stream's own limit.
                throw new FullException("the fleet's sample stream is full: it holds " + held + " of "
                        + settings.maxSamples() + " samples that no promoted round has learned yet");
            }
            JetStream js = connection.nats().jetStream(connection.jetStreamOptions());
            List<CompletableFuture<PublishAck>> acks = new ArrayList<>(payloads.size());
            for (int i = 0; i < payloads.size(); i++) {
                acks.add(js.publishAsync(settings.samplesSubject(), payloads.get(i),
                        PublishOptions.builder().messageId(messageIds.get(i)).build()));
            }
            List<Stored> stored = new ArrayList<>(acks.size());
            long deadline = System.nanoTime() + settings.requestTimeout().toNanos();
            for (CompletableFuture<PublishAck> ack : acks) {
                PublishAck done = ack.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                stored.add(new Stored(done.getSeqno(), done.isDuplicate()));
            }
            return stored;
        } catch (ExecutionException e) {
            throw publishFailure(e.getCause());
        } catch (IOException | JetStreamApiException | TimeoutException e) {
            throw publishFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetUnavailableException("interrupted while storing samples", e);
        }
    }

    private RuntimeException publishFailure(Throwable cause) {
        Throwable api = cause;
        while (api != null && !(api instanceof JetStreamApiException)) {
            api = api.getCause();
        }
        if (api instanceof JetStreamApiException full && full.getApiErrorCode() == STREAM_FULL) {
            return new FullException("the fleet's sample stream is full: it holds " + settings.maxSamples()
                    + " samples that no promoted round has learned yet (" + full.getErrorDescription() + ")");
        }
        return new FleetUnavailableException("cannot store samples in NATS JetStream: expected an acknowledgement within "
                + settings.requestTimeout().toMillis() + " ms, found " + cause, cause);
    }

    /** Messages in the stream now. */
    public long count() {
        try {
            return connection.nats().jetStreamManagement(connection.jetStreamOptions())
                    .getStreamInfo(settings.samplesStream()).getStreamState().getMsgCount();
        } catch (IOException | JetStreamApiException e) {
            throw new FleetUnavailableException("cannot read the sample stream: " + e.getMessage(), e);
        }
    }

    /** Removes the messages up to and including {@code sequence}: a promoted round learned them. */
    public void purgeThrough(long sequence) {
        try {
            connection.nats().jetStreamManagement(connection.jetStreamOptions()).purgeStream(settings.samplesStream(),
                    io.nats.client.PurgeOptions.builder().sequence(sequence + 1).build());
        } catch (IOException | JetStreamApiException e) {
            LOG.warnf("fleet: cannot purge learned samples through %d: %s", sequence, e.getMessage());
        }
    }

    /**
     * Copies the stream into this replica in stream order until {@code stop} says so, on the caller's
     * thread: reads the messages after {@code after} (the newest sequence the replica holds, which is
     * also where it resumes after a restart) by sequence, up to 256 at a time, and hands each batch to
     * {@code handler}. Reading by sequence keeps the order strict, which the journal needs, and needs no
     * consumer state on the server. NATS being away only makes it wait and retry.
     */
    public void consume(java.util.function.LongSupplier after, Handler handler, java.util.function.BooleanSupplier stop) {
        long next = 1;
        while (!stop.getAsBoolean()) {
            try {
                if (!connection.isConnected()) {
                    Thread.sleep(200);
                    continue;
                }
                if (!ready) {
                    ensure();
                }
                JetStreamManagement management = connection.nats().jetStreamManagement(connection.jetStreamOptions());
                var state = management.getStreamInfo(settings.samplesStream()).getStreamState();
                next = Math.max(next, Math.max(after.getAsLong() + 1, state.getFirstSequence()));
                long last = Math.min(state.getLastSequence(), next + 255);
                if (next > last) {
                    Thread.sleep(200);
                    continue;
                }
                handler.accept(read(management, next, last));
                next = last + 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // NATS going away is expected and repeats every attempt; anything else is worth a line once.
                String problem = e.toString();
                if (connection.isConnected() && !problem.equals(lastProblem)) {
                    LOG.warnf("fleet: reading the sample stream failed (retrying): %s", problem);
                }
                lastProblem = problem;
                sleepQuietly(1000);
            }
        }
    }

    private List<Delivered> read(JetStreamManagement management, long first, long last)
            throws IOException, JetStreamApiException {
        List<Delivered> batch = new ArrayList<>();
        for (long sequence = first; sequence <= last; sequence++) {
            try {
                batch.add(new Delivered(sequence, management.getMessage(settings.samplesStream(), sequence).getData()));
            } catch (JetStreamApiException e) {
                // A purged message (learned by a promoted round): nothing to copy.
                if (e.getApiErrorCode() != NO_MESSAGE) {
                    throw e;
                }
            }
        }
        return batch;
    }

    private void requireConnected(String what) {
        if (!connection.isConnected()) {
            throw new FleetUnavailableException("cannot " + what + ": expected a connection to NATS at "
                    + settings.natsUrl() + ", found none (the replica keeps serving and reconnects by itself)", null);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

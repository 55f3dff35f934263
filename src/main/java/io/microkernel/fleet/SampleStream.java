package io.microkernel.fleet;

import io.nats.client.ConsumerContext;
import io.nats.client.FetchConsumer;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.FetchConsumeOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.IOException;
import java.time.Duration;
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
 * caller answers 429). Every replica reads the whole stream through its own durable consumer.
 *
 * <p>Thread-safe.
 */
public final class SampleStream {

    private static final Logger LOG = Logger.getLogger(SampleStream.class);
    /** JetStream's code for "maximum messages (or bytes) exceeded" on a stream that discards new messages. */
    static final int STREAM_FULL = 10077;

    /** One stored message: its sequence, and whether an earlier publish with its id had stored it already. */
    public record Stored(long sequence, boolean duplicate) {
    }

    /** What a replica does with each message; it must be idempotent (redelivery happens). */
    @FunctionalInterface
    public interface Handler {
        /** Applies the messages of one fetch, in stream order; a thrown exception leaves them unacknowledged. */
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
        JetStreamManagement management = connection.nats().jetStreamManagement(connection.jetStreamOptions());
        StreamConfiguration config = StreamConfiguration.builder().name(settings.samplesStream())
                .subjects(settings.samplesSubject()).storageType(StorageType.File)
                .maxMessages(settings.maxSamples()).discardPolicy(DiscardPolicy.New)
                .duplicateWindow(settings.duplicateWindow()).build();
        try {
            management.getStreamInfo(settings.samplesStream());
            management.updateStream(config);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != FleetConnection.NOT_FOUND) {
                throw e;
            }
            management.addStream(config);
        }
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
     * Reads the stream through this replica's durable consumer until {@code stop} says so, calling
     * {@code handler} per fetch and acknowledging what it applied. Runs on the caller's thread; NATS
     * being away only makes it wait and retry.
     */
    public void consume(Handler handler, java.util.function.BooleanSupplier stop) {
        String durable = "replica-" + settings.replicaId().replaceAll("[^A-Za-z0-9_-]", "_");
        boolean bound = false;
        while (!stop.getAsBoolean()) {
            try {
                if (!connection.isConnected()) {
                    bound = false;
                    Thread.sleep(200);
                    continue;
                }
                if (!bound) {
                    ensure();
                    bindConsumer(durable);
                    bound = true;
                    LOG.debugf("fleet: reading the sample stream as %s", durable);
                }
                fetchOnce(durable, handler);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                bound = false;
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

    private void bindConsumer(String durable) throws IOException, JetStreamApiException {
        ConsumerConfiguration config = ConsumerConfiguration.builder().durable(durable).ackPolicy(AckPolicy.Explicit)
                .deliverPolicy(DeliverPolicy.All).ackWait(Duration.ofSeconds(30))
                .inactiveThreshold(Duration.ofDays(1)).build();
        connection.nats().jetStreamManagement(connection.jetStreamOptions()).addOrUpdateConsumer(settings.samplesStream(), config);
    }

    private void fetchOnce(String durable, Handler handler) throws Exception {
        ConsumerContext consumer = connection.nats().getStreamContext(settings.samplesStream(), connection.jetStreamOptions())
                .getConsumerContext(durable);
        List<Message> messages = new ArrayList<>();
        try (FetchConsumer fetch = consumer.fetch(FetchConsumeOptions.builder().maxMessages(256).expiresIn(1000).build())) {
            for (Message m = fetch.nextMessage(); m != null; m = fetch.nextMessage()) {
                messages.add(m);
            }
        }
        if (messages.isEmpty()) {
            return;
        }
        List<Delivered> batch = messages.stream()
                .map(m -> new Delivered(m.metaData().streamSequence(), m.getData())).toList();
        try {
            handler.accept(batch);
        } catch (Exception e) {
            // Redelivered at once, before newer messages: the journal takes ids in increasing order only.
            messages.forEach(Message::nak);
            throw e;
        }
        messages.forEach(Message::ack);
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

package io.microkernel.fleet;

import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * The fleet's prediction log: what every replica logged, by prediction id, so a label posted to any
 * replica finds the input another replica served. One JetStream stream per model,
 * {@code MK_PREDICTIONS_{m}}, one subject per prediction id ({@code mk.predictions.{m}.{key}}, the key
 * being the SHA-256 of the id in base64url, since ids may hold any character), the newest message
 * per subject kept, none older than the log's retention, the oldest discarded beyond
 * {@code maxMessages} or {@code maxBytes}. Values are opaque bytes: the prediction log's record.
 *
 * <p>{@link #share} publishes without waiting for the acknowledgement (it is called by the log's
 * background writer, which must keep up with serving); at most {@link #MAX_IN_FLIGHT} publishes are
 * unacknowledged at once. A record that cannot be published (NATS away, too many in flight, over
 * the server's maximum payload, refused) is counted in {@link #dropped} and stays in the serving
 * replica's own log only. {@link #find} asks the stream synchronously.
 *
 * <p>Thread-safe. {@link #close()} is safe to call twice.
 */
public final class FleetPredictions implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(FleetPredictions.class);
    /** The most publishes waiting for their acknowledgement. */
    static final int MAX_IN_FLIGHT = 1024;
    /** JetStream's code for "no message found". */
    private static final int NO_MESSAGE = 10037;
    /** JetStream's default duplicate window; a stream's may not exceed its max age. */
    private static final Duration DUPLICATE_WINDOW = Duration.ofMinutes(2);

    private final FleetConnection connection;
    private final Duration retention;
    private final long maxMessages;
    private final long maxBytes;
    private final String stream;
    private final String subjectPrefix;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final AtomicLong shared = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean ready;
    private volatile boolean closed;

    /**
     * @param retention   how long a shared prediction is kept (the log's retention)
     * @param maxMessages the most predictions the stream keeps, fleet-wide
     * @param maxBytes    the most bytes the stream keeps
     */
    public FleetPredictions(FleetConnection connection, Duration retention, long maxMessages, long maxBytes) {
        this.connection = connection;
        this.retention = retention;
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
        this.stream = "MK_PREDICTIONS_" + connection.settings().token();
        this.subjectPrefix = "mk.predictions." + connection.settings().token() + ".";
        // A restarted server may have lost the stream: create it again before the next publish.
        connection.onReconnect(() -> ready = false);
    }

    /** The stream's name, {@code MK_PREDICTIONS_{m}}. */
    public String stream() {
        return stream;
    }

    /** Records whose publish JetStream acknowledged, since start. */
    public long shared() {
        return shared.get();
    }

    /** Records not shared, since start: NATS away, too many in flight, too large, or refused. */
    public long dropped() {
        return dropped.get();
    }

    /** Creates the stream when missing (or updates its limits). */
    private synchronized void ensure() throws IOException, JetStreamApiException {
        if (ready) {
            return;
        }
        StreamConfiguration config = StreamConfiguration.builder().name(stream).subjects(subjectPrefix + "*")
                .storageType(StorageType.File).maxMessagesPerSubject(1).maxAge(retention)
                .maxMessages(maxMessages).maxBytes(maxBytes).discardPolicy(DiscardPolicy.Old)
                .duplicateWindow(retention.compareTo(DUPLICATE_WINDOW) < 0 ? retention : DUPLICATE_WINDOW).build();
        connection.createOrUpdateStream(config);
        ready = true;
    }

    /**
     * Publishes {@code record} under {@code id}, a later one replacing it, without waiting for the
     * acknowledgement.
     *
     * @return whether it was sent; false when it was dropped (and counted)
     */
    public boolean share(String id, byte[] record) {
        if (closed || !connection.isConnected() || record.length > connection.nats().getMaxPayload()) {
            dropped.incrementAndGet();
            return false;
        }
        if (!inFlight.tryAcquire()) {
            dropped.incrementAndGet();
            return false;
        }
        try {
            ensure();
            JetStream js = connection.nats().jetStream(connection.jetStreamOptions());
            js.publishAsync(subject(id), record).whenComplete((ack, failure) -> {
                inFlight.release();
                if (failure == null) {
                    shared.incrementAndGet();
                } else {
                    dropped.incrementAndGet();
                    ready = false;
                    LOG.debugf("fleet: prediction %s was not shared: %s", id, failure.getMessage());
                }
            });
            return true;
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            inFlight.release();
            dropped.incrementAndGet();
            ready = false;
            LOG.debugf("fleet: cannot share prediction %s: %s", id, e.getMessage());
            return false;
        }
    }

    /**
     * The record shared under {@code id}, unless none is (never shared, replaced by nothing, expired
     * or discarded).
     *
     * @throws FleetUnavailableException when NATS is away or does not answer in time
     */
    public Optional<byte[]> find(String id) {
        if (!connection.isConnected()) {
            throw new FleetUnavailableException("cannot look prediction '" + id + "' up in the fleet's log: expected a"
                    + " connection to NATS, found none", null);
        }
        try {
            JetStreamManagement management = connection.nats().jetStreamManagement(connection.jetStreamOptions());
            MessageInfo message = management.getLastMessage(stream, subject(id));
            return Optional.ofNullable(message.getData());
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == NO_MESSAGE || e.getApiErrorCode() == FleetConnection.NOT_FOUND) {
                return Optional.empty();
            }
            throw new FleetUnavailableException("cannot look prediction '" + id + "' up in the fleet's log: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new FleetUnavailableException("cannot look prediction '" + id + "' up in the fleet's log: "
                    + e.getMessage(), e);
        }
    }

    /** {@code mk.predictions.{m}.{base64url SHA-256 of the id}}: one token whatever the id holds. */
    String subject(String id) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return subjectPrefix + Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Waits (up to the request timeout) for the publishes in flight; the connection stays open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (inFlight.tryAcquire(MAX_IN_FLIGHT, connection.settings().requestTimeout().toMillis(),
                    TimeUnit.MILLISECONDS)) {
                inFlight.release(MAX_IN_FLIGHT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

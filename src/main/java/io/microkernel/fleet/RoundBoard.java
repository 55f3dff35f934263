package io.microkernel.fleet;

import io.nats.client.Dispatcher;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.Message;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatchOption;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import java.io.IOException;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * The fleet's round history and the way to ask the trainer for a round. Round records are JSON
 * documents in a key-value bucket, keyed by round id, written by the trainer and mirrored by every
 * replica; a request to start or cancel a round is a NATS request on a subject only the lease
 * holder answers.
 *
 * <p>Thread-safe.
 */
public final class RoundBoard implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RoundBoard.class);

    private final FleetConnection connection;
    private volatile NatsKeyValueWatchSubscription watch;
    private volatile Dispatcher answering;
    private volatile BiConsumer<String, byte[]> mirror;

    public RoundBoard(FleetConnection connection) {
        this.connection = connection;
    }

    private KeyValue bucket() throws IOException, JetStreamApiException {
        return connection.keyValue(KeyValueConfiguration.builder().name(connection.settings().roundsBucket())
                .maxHistoryPerKey(1).storageType(StorageType.File).build());
    }

    /** Stores a round's record for the fleet; a failure is logged (the local record stays). */
    public void put(long roundId, byte[] json) {
        if (!connection.isConnected()) {
            return;
        }
        try {
            bucket().put(Long.toString(roundId), json);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            LOG.warnf("fleet: cannot share round %d: %s", roundId, e.getMessage());
        }
    }

    /** Calls {@code onRecord(roundId, json)} with every record now and every later change. */
    public void mirrorInto(BiConsumer<String, byte[]> onRecord) {
        mirror = onRecord;
        connection.onReconnect(this::rewatch);
        if (connection.isConnected()) {
            rewatch();
        }
    }

    private synchronized void rewatch() {
        try {
            NatsKeyValueWatchSubscription old = watch;
            if (old != null) {
                watch = null;
                old.unsubscribe();
            }
            BiConsumer<String, byte[]> onRecord = mirror;
            watch = bucket().watchAll(new KeyValueWatcher() {
                @Override
                public void watch(KeyValueEntry entry) {
                    if (entry.getOperation() == KeyValueOperation.PUT) {
                        onRecord.accept(entry.getKey(), entry.getValue());
                    }
                }

                @Override
                public void endOfData() {
                    // The history so far has arrived; later changes follow as they happen.
                }
            }, KeyValueWatchOption.IGNORE_DELETE);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            LOG.warnf("fleet: cannot follow the fleet's rounds: %s", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts answering round requests (the lease holder does): {@code start} answers a request to start
     * a round, {@code cancel} one to cancel a round.
     */
    public synchronized void answer(UnaryOperator<byte[]> start, UnaryOperator<byte[]> cancel) {
        stopAnswering();
        Dispatcher dispatcher = connection.nats().createDispatcher(message -> { });
        dispatcher.subscribe(connection.settings().roundRequestSubject(), request -> reply(request, start));
        dispatcher.subscribe(connection.settings().roundCancelSubject(), request -> reply(request, cancel));
        answering = dispatcher;
        try {
            // The server knows the subscriptions once this returns, so a request sent next is answered.
            connection.nats().flush(connection.settings().requestTimeout());
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.debugf("fleet: the round subscriptions are not confirmed yet: %s", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void reply(Message request, UnaryOperator<byte[]> handler) {
        byte[] reply;
        try {
            reply = handler.apply(request.getData());
        } catch (RuntimeException e) {
            reply = ("{\"status\":500,\"detail\":\"" + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        connection.nats().publish(request.getReplyTo(), reply);
    }

    /** Stops answering round requests. */
    public synchronized void stopAnswering() {
        Dispatcher d = answering;
        answering = null;
        if (d != null) {
            connection.nats().closeDispatcher(d);
        }
    }

    /**
     * Asks the trainer to start a round.
     *
     * @throws FleetUnavailableException when NATS is away or no trainer answers within {@code timeout}
     */
    public byte[] request(byte[] body, Duration timeout) {
        return ask(connection.settings().roundRequestSubject(), "for a round", body, timeout);
    }

    /**
     * Asks the trainer to cancel a round.
     *
     * @throws FleetUnavailableException when NATS is away or no trainer answers within {@code timeout}
     */
    public byte[] requestCancel(byte[] body, Duration timeout) {
        return ask(connection.settings().roundCancelSubject(), "to cancel a round", body, timeout);
    }

    private byte[] ask(String subject, String what, byte[] body, Duration timeout) {
        if (!connection.isConnected()) {
            throw new FleetUnavailableException("cannot ask the trainer " + what + ": expected a connection to NATS,"
                    + " found none", null);
        }
        try {
            Message reply = connection.nats().request(subject, body, timeout);
            if (reply == null || reply.isStatusMessage()) {
                throw new FleetUnavailableException("no trainer answered within " + timeout.toMillis() + " ms: expected"
                        + " the replica holding the trainer lease, found none (a takeover may be under way)", null);
            }
            return reply.getData();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetUnavailableException("interrupted while asking the trainer " + what, e);
        }
    }

    @Override
    public synchronized void close() {
        stopAnswering();
        NatsKeyValueWatchSubscription old = watch;
        watch = null;
        if (old != null) {
            try {
                old.unsubscribe();
            } catch (RuntimeException e) {
                LOG.debugf("fleet: closing the rounds watch: %s", e.getMessage());
            }
        }
    }
}

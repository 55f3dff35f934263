package io.microkernel.fleet;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatchOption;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The fleet's active version: one key-value entry, moved only by compare-and-set on its revision,
 * so two writers racing (a promotion and an operator's rollback) cannot both win. Every replica
 * watches it; the watcher is re-created from the last revision seen after each reconnection, and
 * the entry is read once then, so a replica that was away catches up at once.
 *
 * <p>Thread-safe.
 */
public final class ActivePointer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ActivePointer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "active";

    /**
     * The entry's value.
     *
     * @param version         the version every replica serves
     * @param consumedThrough the newest sample id a promoted round learned from
     * @param revision        the entry's revision (not stored in the value)
     */
    public record Pointer(int version, long consumedThrough, long revision) {
    }

    /** The stored JSON: {@code {"version":N,"consumed_through":id}}. */
    private record Value(int version, @JsonProperty("consumed_through") long consumedThrough) {
    }

    private final FleetConnection connection;
    private volatile NatsKeyValueWatchSubscription watch;
    private volatile long lastRevision;
    private volatile Consumer<Pointer> follower;

    public ActivePointer(FleetConnection connection) {
        this.connection = connection;
    }

    private KeyValue bucket() throws IOException, JetStreamApiException {
        return connection.keyValue(KeyValueConfiguration.builder().name(connection.settings().activeBucket())
                .maxHistoryPerKey(5).storageType(StorageType.File).build());
    }

    /** The pointer now; empty when no replica has set it yet. */
    public Optional<Pointer> read() {
        try {
            KeyValueEntry entry = bucket().get(KEY);
            return entry == null ? Optional.empty() : Optional.of(parse(entry));
        } catch (IOException | JetStreamApiException e) {
            throw new FleetUnavailableException("cannot read the fleet's active version: " + e.getMessage(), e);
        }
    }

    /**
     * Moves the pointer from {@code expected} (empty: it must not exist yet) to {@code next}.
     *
     * @return the new pointer, or empty when another writer moved it first
     */
    public Optional<Pointer> compareAndSet(Optional<Pointer> expected, int version, long consumedThrough) {
        try {
            byte[] value = JSON.writeValueAsBytes(new Value(version, consumedThrough));
            long revision = expected.isEmpty() ? bucket().create(KEY, value)
                    : bucket().update(KEY, value, expected.get().revision());
            return Optional.of(new Pointer(version, consumedThrough, revision));
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == FleetConnection.WRONG_LAST_SEQUENCE) {
                return Optional.empty();
            }
            throw new FleetUnavailableException("cannot move the fleet's active version: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new FleetUnavailableException("cannot move the fleet's active version: " + e.getMessage(), e);
        }
    }

    /**
     * Calls {@code onChange} with the pointer now and with every later value, on a NATS thread or
     * the reconnect thread; the same value may come twice.
     */
    public void follow(Consumer<Pointer> onChange) {
        follower = onChange;
        connection.onReconnect(this::rewatch);
        if (connection.isConnected()) {
            rewatch();
        }
    }

    private synchronized void rewatch() {
        Consumer<Pointer> onChange = follower;
        try {
            NatsKeyValueWatchSubscription old = watch;
            if (old != null) {
                watch = null;
                old.unsubscribe();
            }
            read().ifPresent(p -> deliver(p, onChange));
            watch = bucket().watch(KEY, new Watcher(onChange), lastRevision + 1);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            LOG.warnf("fleet: cannot watch the active version: %s", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void deliver(Pointer pointer, Consumer<Pointer> onChange) {
        lastRevision = Math.max(lastRevision, pointer.revision());
        try {
            onChange.accept(pointer);
        } catch (RuntimeException e) {
            LOG.warnf("fleet: following active version %d failed: %s", pointer.version(), e.getMessage());
        }
    }

    private final class Watcher implements KeyValueWatcher {
        private final Consumer<Pointer> onChange;

        Watcher(Consumer<Pointer> onChange) {
            this.onChange = onChange;
        }

        @Override
        public void watch(KeyValueEntry entry) {
            if (entry.getOperation() == KeyValueOperation.PUT) {
                try {
                    deliver(parse(entry), onChange);
                } catch (IOException e) {
                    LOG.warnf("fleet: ignoring an unreadable active-version entry: %s", e.getMessage());
                }
            }
        }

        @Override
        public void endOfData() {
            // Updates only: nothing to wait for.
        }
    }

    private static Pointer parse(KeyValueEntry entry) throws IOException {
        Value value = JSON.readValue(entry.getValue(), Value.class);
        return new Pointer(value.version(), value.consumedThrough(), entry.getRevision());
    }

    @Override
    public synchronized void close() {
        NatsKeyValueWatchSubscription old = watch;
        watch = null;
        if (old != null) {
            try {
                old.unsubscribe();
            } catch (RuntimeException e) {
                LOG.debugf("fleet: closing the active-version watch: %s", e.getMessage());
            }
        }
    }
}

package io.microkernel.fleet;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamOptions;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueOptions;
import io.nats.client.Nats;
import io.nats.client.ObjectStore;
import io.nats.client.ObjectStoreOptions;
import io.nats.client.Options;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.ObjectStoreConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The one NATS connection of a replica, and the owner of every bucket and stream handle made from
 * it. It connects in the background and reconnects forever, so a replica starts and serves while
 * NATS is down; {@link #onReconnect} callbacks run after every (re)connection, because watchers and
 * consumers are slow to notice a restarted server by themselves.
 *
 * <p>Thread-safe. {@link #close()} is safe to call twice.
 */
public final class FleetConnection implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(FleetConnection.class);
    /** JetStream answers "not found" with this code (stream, bucket or consumer). */
    static final int NOT_FOUND = 10059;
    /** A compare-and-set lost: "wrong last sequence". */
    static final int WRONG_LAST_SEQUENCE = 10071;

    private final FleetSettings settings;
    private final List<Runnable> reconnectListeners = new CopyOnWriteArrayList<>();
    /** Reconnect steps run here, off the client's own threads, which they would otherwise block. */
    private final java.util.concurrent.ExecutorService steps = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "fleet-reconnect");
        thread.setDaemon(true);
        return thread;
    });
    /**
     * The client's connection, known from its first event (the first connection, or the first failed
     * attempt while NATS is down); null until then.
     */
    private volatile Connection connection;
    /** Opened once the first connection succeeded. */
    private final CountDownLatch connected = new CountDownLatch(1);
    /** Key-value bucket handles by bucket name, made once by {@link #keyValue}. */
    private final java.util.concurrent.ConcurrentMap<String, KeyValue> buckets = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean everConnected;
    private volatile boolean closed;

    private FleetConnection(FleetSettings settings) {
        this.settings = settings;
    }

    /**
     * Connects to {@code settings.natsUrl()} on the client's own thread: returns once connected, or
     * after {@code request-timeout} when NATS is down, and keeps trying in the background. (The client's
     * synchronous reconnect-on-connect would block here until NATS is up.)
     */
    public static FleetConnection open(FleetSettings settings) {
        FleetConnection fleet = new FleetConnection(settings);
        Options options = Options.builder().servers(settings.natsUrl().split(","))
                .connectionName("onnx-microkernel " + settings.replicaId())
                .maxReconnects(-1).reconnectWait(Duration.ofMillis(250))
                .connectionTimeout(settings.requestTimeout())
                .errorListener(new QuietErrors())
                .connectionListener(fleet::connectionEvent).build();
        try {
            Nats.connectAsynchronously(options, true);
            if (!fleet.connected.await(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warnf("fleet: NATS at %s cannot be reached yet; serving from the local store and trying again in the"
                        + " background", settings.natsUrl());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetUnavailableException("interrupted while connecting to NATS", e);
        }
        return fleet;
    }

    public FleetSettings settings() {
        return settings;
    }

    /** Whether the connection is up now. */
    public boolean isConnected() {
        Connection known = connection;
        return known != null && known.getStatus() == Connection.Status.CONNECTED;
    }

    /** Runs {@code listener} after every connection and reconnection (on a NATS thread: keep it short or hand off). */
    public void onReconnect(Runnable listener) {
        reconnectListeners.add(listener);
    }

    /**
     * The client's connection.
     *
     * @throws FleetUnavailableException before the client's first event (a moment after {@link #open})
     */
    Connection nats() {
        Connection known = connection;
        if (known == null) {
            throw new FleetUnavailableException("expected a connection to NATS at " + settings.natsUrl()
                    + ", found none yet (still connecting)", null);
        }
        return known;
    }

    JetStreamOptions jetStreamOptions() {
        JetStreamOptions.Builder b = JetStreamOptions.builder().requestTimeout(settings.requestTimeout());
        if (!settings.jsDomain().isEmpty()) {
            b.domain(settings.jsDomain());
        }
        return b.build();
    }

    /**
     * A key-value bucket, created with {@code config} when missing; looked up once and then kept, so
     * every part asks here instead of caching its own handle. A failed lookup is not kept (NATS may be
     * away): the next call tries again. A bucket that exists keeps its configuration.
     */
    KeyValue keyValue(KeyValueConfiguration config) throws IOException, JetStreamApiException {
        String name = config.getBucketName();
        KeyValue known = buckets.get(name);
        if (known != null) {
            return known;
        }
        synchronized (buckets) {
            known = buckets.get(name);
            if (known != null) {
                return known;
            }
            var management = nats().keyValueManagement(kvOptions());
            try {
                management.getStatus(name);
            } catch (JetStreamApiException e) {
                if (e.getApiErrorCode() != NOT_FOUND) {
                    throw e;
                }
                management.create(config);
            }
            KeyValue bucket = nats().keyValue(name, kvOptions());
            buckets.put(name, bucket);
            return bucket;
        }
    }

    /** Creates the stream {@code config} names when missing, or updates it to {@code config}'s limits. */
    void createOrUpdateStream(StreamConfiguration config) throws IOException, JetStreamApiException {
        var management = nats().jetStreamManagement(jetStreamOptions());
        try {
            management.getStreamInfo(config.getName());
            management.updateStream(config);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != NOT_FOUND) {
                throw e;
            }
            management.addStream(config);
        }
    }

    /** An object store bucket (file storage), created when missing. */
    ObjectStore objectStore(String bucket) throws IOException, JetStreamApiException {
        ObjectStoreOptions options = ObjectStoreOptions.builder(jetStreamOptions()).build();
        var management = nats().objectStoreManagement(options);
        try {
            management.getStatus(bucket);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != NOT_FOUND) {
                throw e;
            }
            management.create(ObjectStoreConfiguration.builder(bucket).storageType(StorageType.File).build());
        }
        return nats().objectStore(bucket, options);
    }

    private KeyValueOptions kvOptions() {
        return KeyValueOptions.builder(jetStreamOptions()).build();
    }

    private void connectionEvent(Connection conn, ConnectionListener.Events event) {
        known(conn);
        switch (event) {
            case CONNECTED, RECONNECTED -> {
                LOG.infof("fleet: %s NATS at %s", everConnected ? "reconnected to" : "connected to", conn.getConnectedUrl());
                everConnected = true;
                connected.countDown();
                reconnectListeners.forEach(listener -> steps.execute(() -> runQuietly(listener)));
            }
            // One event per failed attempt while NATS is down: log at debug only.
            case DISCONNECTED -> LOG.debugf("fleet: disconnected from NATS");
            default -> LOG.debugf("fleet: NATS connection event %s", event);
        }
    }

    /** Keeps the client's connection from its first event; one that shows up after {@link #close} is closed. */
    private void known(Connection conn) {
        boolean closeIt;
        synchronized (this) {
            if (connection != null) {
                return;
            }
            connection = conn;
            closeIt = closed;
        }
        if (closeIt) {
            // Not on the client's own thread, which close() would wait for.
            Thread closer = new Thread(() -> closeQuietly(conn), "fleet-close");
            closer.setDaemon(true);
            closer.start();
        }
    }

    private static void closeQuietly(Connection conn) {
        try {
            conn.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void runQuietly(Runnable listener) {
        try {
            listener.run();
        } catch (RuntimeException e) {
            LOG.warnf("fleet: a reconnect step failed: %s", e.getMessage());
        }
    }

    @Override
    public void close() {
        steps.shutdownNow();
        Connection known;
        synchronized (this) {
            closed = true;
            known = connection;
        }
        if (known != null) {
            closeQuietly(known);
        }
    }

    /** Errors the client reports while NATS is away are expected; they go to debug. */
    private static final class QuietErrors implements io.nats.client.ErrorListener {
        @Override
        public void errorOccurred(Connection conn, String error) {
            LOG.debugf("fleet: NATS error: %s", error);
        }

        @Override
        public void exceptionOccurred(Connection conn, Exception exp) {
            LOG.debugf("fleet: NATS client exception: %s", exp.toString());
        }
    }
}

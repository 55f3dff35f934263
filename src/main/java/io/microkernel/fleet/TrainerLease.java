package io.microkernel.fleet;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The trainer election of one model: a key in a key-value bucket whose bucket-level TTL is the
 * lease's (server 2.9 ignores per-key TTLs). The holder refreshes it with compare-and-set every
 * third of the TTL; a trainer-eligible replica that finds the key gone creates it and holds the
 * lease. When the holder dies the key expires and another replica takes over within about 1.3
 * times the TTL. A holder whose refresh fails (NATS away, or another replica took over) stops
 * holding at once: it is better to have no trainer for a moment than two.
 *
 * <p>Thread-safe: state changes on one scheduler thread; listeners run there.
 */
public final class TrainerLease implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TrainerLease.class);
    static final String KEY = "trainer";

    /** Told when this replica starts or stops holding the lease. */
    public interface Listener {
        void acquired();

        void lost(String why);
    }

    private final FleetConnection connection;
    private final FleetSettings settings;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "fleet-trainer-lease");
        thread.setDaemon(true);
        return thread;
    });
    private volatile long heldRevision = -1;
    private volatile String holder;

    public TrainerLease(FleetConnection connection) {
        this.connection = connection;
        this.settings = connection.settings();
    }

    private KeyValue bucket() throws IOException, JetStreamApiException {
        return connection.keyValue(KeyValueConfiguration.builder().name(settings.leaseBucket())
                .ttl(settings.leaseTtl()).maxHistoryPerKey(1).storageType(StorageType.File).build());
    }

    /** Starts competing (trainer-eligible replicas) or just watching who holds it (serve-only ones). */
    public void start() {
        long period = Math.max(100, settings.leaseTtl().toMillis() / 4);
        timer.scheduleWithFixedDelay(this::tick, 0, period, TimeUnit.MILLISECONDS);
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    /** Whether this replica holds the lease now. */
    public boolean isHeld() {
        return heldRevision >= 0;
    }

    /** The replica that held the lease when last looked at, if any. */
    public Optional<String> holder() {
        return Optional.ofNullable(holder);
    }

    private void tick() {
        try {
            if (!connection.isConnected()) {
                lose("lost the connection to NATS");
                return;
            }
            KeyValue bucket = bucket();
            byte[] me = settings.replicaId().getBytes(StandardCharsets.UTF_8);
            if (isHeld()) {
                heldRevision = bucket.update(KEY, me, heldRevision);
                return;
            }
            KeyValueEntry entry = bucket.get(KEY);
            holder = entry == null || entry.getValue() == null ? null : entry.getValueAsString();
            if (settings.trainerEligible() && holder == null) {
                long revision = entry == null ? bucket.create(KEY, me) : bucket.update(KEY, me, entry.getRevision());
                acquire(revision);
            }
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == FleetConnection.WRONG_LAST_SEQUENCE) {
                lose("another replica holds the trainer lease");
            } else {
                lose("NATS refused the lease refresh: " + e.getMessage());
            }
        } catch (IOException | RuntimeException e) {
            lose("the lease refresh failed: " + e.getMessage());
        }
    }

    private void acquire(long revision) {
        heldRevision = revision;
        holder = settings.replicaId();
        LOG.infof("fleet: replica %s holds the trainer lease of '%s'", settings.replicaId(), settings.model());
        for (Listener listener : listeners) {
            try {
                listener.acquired();
            } catch (RuntimeException e) {
                LOG.warnf("fleet: a lease listener failed: %s", e.getMessage());
            }
        }
    }

    private void lose(String why) {
        if (!isHeld()) {
            return;
        }
        heldRevision = -1;
        holder = null;
        LOG.warnf("fleet: replica %s no longer holds the trainer lease: %s", settings.replicaId(), why);
        for (Listener listener : listeners) {
            try {
                listener.lost(why);
            } catch (RuntimeException e) {
                LOG.warnf("fleet: a lease listener failed: %s", e.getMessage());
            }
        }
    }

    /** Stops refreshing and gives the lease up, so another replica need not wait for the TTL. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long revision = heldRevision;
        heldRevision = -1;
        if (revision >= 0 && connection.isConnected()) {
            try {
                bucket().delete(KEY, revision);
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                LOG.debugf("fleet: cannot give the lease up: %s", e.getMessage());
            }
        }
    }
}

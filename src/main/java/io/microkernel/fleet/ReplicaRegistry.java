package io.microkernel.fleet;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.StorageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Who is in the fleet: every replica keeps one heartbeat entry (its id, role, whether it holds the
 * trainer lease, the version it serves) in a key-value bucket whose max age is the entry's time to
 * live (server 2.9 ignores per-key TTLs), refreshed every {@link FleetSettings#replicaHeartbeat()}
 * and at once when what it says changes. A replica that stops refreshing drops out after
 * {@link FleetSettings#replicaTtl()}; one that shuts down cleanly removes its entry. Anyone reads
 * the list back with {@link #members()}.
 *
 * <p>Thread-safe: heartbeats run on one scheduler thread.
 */
public final class ReplicaRegistry implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ReplicaRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One replica as its last heartbeat said.
     *
     * @param replica  its id ({@code microkernel.fleet.replica-id})
     * @param role     {@code trainer-eligible} or {@code serve-only}
     * @param trainer  whether it held the trainer lease
     * @param version  the version it served; null while it serves none
     * @param ready    whether it answered inference
     * @param lastSeen when NATS stored the heartbeat (the server's clock); null when unknown
     */
    public record Member(String replica, String role, boolean trainer, Integer version, boolean ready, Instant lastSeen) {
    }

    /** The stored JSON. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    private record Value(String replica, String role, boolean trainer, Integer version, boolean ready) {
    }

    private final FleetConnection connection;
    private final FleetSettings settings;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "fleet-replica-heartbeat");
        thread.setDaemon(true);
        return thread;
    });
    private volatile Supplier<OptionalInt> served = OptionalInt::empty;
    private volatile BooleanSupplier ready = () -> false;
    private volatile BooleanSupplier trainer = () -> false;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile Instant lastBeat;
    private String lastProblem;

    public ReplicaRegistry(FleetConnection connection) {
        this.connection = connection;
        this.settings = connection.settings();
    }

    private KeyValue bucket() throws IOException, JetStreamApiException {
        return connection.keyValue(KeyValueConfiguration.builder().name(settings.replicasBucket())
                .ttl(settings.replicaTtl()).maxHistoryPerKey(1).storageType(StorageType.File).build());
    }

    /**
     * Starts the heartbeats of this replica.
     *
     * @param version the version this replica serves now (empty: none)
     * @param isReady whether it answers inference now
     * @param holdsLease whether it holds the trainer lease now
     */
    public synchronized void start(Supplier<OptionalInt> version, BooleanSupplier isReady, BooleanSupplier holdsLease) {
        if (started || closed) {
            return;
        }
        served = version;
        ready = isReady;
        trainer = holdsLease;
        started = true;
        timer.scheduleWithFixedDelay(this::heartbeat, 0, settings.replicaHeartbeat().toMillis(), TimeUnit.MILLISECONDS);
        connection.onReconnect(this::beat);
    }

    /** Sends a heartbeat now (soon, on the heartbeat thread): what it says changed. */
    public void beat() {
        if (started && !closed) {
            try {
                timer.execute(this::heartbeat);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // Closing: nothing more to say.
            }
        }
    }

    private void heartbeat() {
        if (closed || !connection.isConnected()) {
            return;
        }
        try {
            Member now = local();
            Value value = new Value(now.replica(), now.role(), now.trainer(), now.version(), now.ready());
            bucket().put(key(settings.replicaId()), JSON.writeValueAsBytes(value));
            lastBeat = Instant.now();
            lastProblem = null;
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            // Repeats every beat while NATS misbehaves: one line per new problem.
            String problem = e.toString();
            if (!problem.equals(lastProblem)) {
                LOG.warnf("fleet: cannot refresh this replica's registry entry (retrying): %s", problem);
            }
            lastProblem = problem;
        }
    }

    /**
     * Every replica whose heartbeat has not expired, by id.
     *
     * @throws FleetUnavailableException when NATS cannot be reached
     */
    public List<Member> members() {
        if (!connection.isConnected()) {
            throw new FleetUnavailableException("cannot list the fleet's replicas: expected a connection to NATS at "
                    + settings.natsUrl() + ", found none", null);
        }
        try {
            KeyValue bucket = bucket();
            List<Member> members = new ArrayList<>();
            for (String key : bucket.keys()) {
                KeyValueEntry entry = bucket.get(key);
                if (entry == null || entry.getOperation() != KeyValueOperation.PUT || entry.getValue() == null) {
                    continue;
                }
                try {
                    Value value = JSON.readValue(entry.getValue(), Value.class);
                    members.add(new Member(value.replica(), value.role(), value.trainer(), value.version(), value.ready(),
                            entry.getCreated().toInstant()));
                } catch (IOException e) {
                    LOG.debugf("fleet: ignoring an unreadable registry entry '%s': %s", key, e.getMessage());
                }
            }
            members.sort(Comparator.comparing(Member::replica));
            return members;
        } catch (IOException | JetStreamApiException e) {
            throw new FleetUnavailableException("cannot list the fleet's replicas: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetUnavailableException("interrupted while listing the fleet's replicas", e);
        }
    }

    /** This replica's id. */
    public String self() {
        return settings.replicaId();
    }

    /**
     * This replica as its next heartbeat will say, without asking NATS; {@code lastSeen} is when its
     * last heartbeat was stored (this process's clock), null before the first.
     */
    public Member local() {
        OptionalInt version = served.get();
        return new Member(settings.replicaId(), role(), trainer.getAsBoolean(),
                version.isPresent() ? version.getAsInt() : null, ready.getAsBoolean(), lastBeat);
    }

    private String role() {
        return settings.trainerEligible() ? FleetBeans.TRAINER_ELIGIBLE : FleetBeans.SERVE_ONLY;
    }

    /**
     * The key of a replica: its id when that is a valid key token, else a hex spelling of it, so any
     * configured id works (the value keeps the id as given).
     */
    static String key(String replicaId) {
        return replicaId.matches("[-_=a-zA-Z0-9]{1,200}") ? replicaId
                : "x" + HexFormat.of().formatHex(replicaId.getBytes(StandardCharsets.UTF_8));
    }

    /** Stops the heartbeats and removes this replica's entry, so the list drops it at once. */
    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (started && connection.isConnected()) {
            try {
                bucket().delete(key(settings.replicaId()));
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                LOG.debugf("fleet: cannot remove this replica's registry entry: %s", e.getMessage());
            }
        }
    }
}

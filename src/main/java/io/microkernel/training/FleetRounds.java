package io.microkernel.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.TrainerLease;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Rounds in fleet mode: they run only on the replica holding the trainer lease; a round asked for
 * or cancelled on any other replica is forwarded to it over NATS; every round record is shared
 * through the fleet's round bucket and mirrored into each replica's {@link RoundRecords}, so {@code GET /rounds}
 * shows the fleet's rounds everywhere and round ids stay unique across trainers. A replica that
 * takes the lease over records the rounds its predecessor left open as failed, with the reason.
 *
 * <p>Thread-safe.
 */
final class FleetRounds implements RoundRouting, TrainerLease.Listener {

    private static final Logger LOG = Logger.getLogger(FleetRounds.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Progress changes many times a second; the fleet sees it at most this often. */
    private static final long PROGRESS_MILLIS = 1000;
    static final String TAKEOVER_CAUSE = "the trainer stopped or lost its lease during the round";

    private final Fleet fleet;
    private final RoundScheduler scheduler;
    /** Rounds this replica changed; the mirror never overwrites them with an echo. */
    private final Set<Long> owned = ConcurrentHashMap.newKeySet();
    private final Map<Long, Long> lastShared = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> mirroring = ThreadLocal.withInitial(() -> false);
    private final ExecutorService sharing = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "fleet-round-sharing");
        thread.setDaemon(true);
        return thread;
    });

    FleetRounds(Fleet fleet, RoundScheduler scheduler) {
        this.fleet = fleet;
        this.scheduler = scheduler;
    }

    void start() {
        scheduler.records().addListener(this::changed);
        fleet.rounds().mirrorInto(this::mirror);
        fleet.lease().addListener(this);
    }

    @Override
    public boolean trainsHere() {
        return fleet.lease().isHeld();
    }

    @Override
    public RoundRecord forward(String trigger, RoundOverrides overrides) {
        ObjectNode request = JSON.createObjectNode().put("trigger", trigger);
        overrides.epochs().ifPresent(v -> request.put("epochs", v));
        overrides.batchSize().ifPresent(v -> request.put("batch_size", v));
        overrides.learningRate().ifPresent(v -> request.put("learning_rate", v));
        overrides.seed().ifPresent(v -> request.put("seed", v));
        byte[] reply = fleet.rounds().request(request.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                fleet.settings().requestTimeout());
        return recordOf(reply);
    }

    /**
     * Cancels a round through the trainer. A round this replica already knows as finished is answered
     * here (409, as on a single node), so that answer needs no NATS; any other goes to the trainer,
     * which knows the rounds it queued and runs.
     */
    @Override
    public RoundRecord forwardCancel(long id) {
        if (scheduler.records().find(id).map(r -> r.state().isFinal()).orElse(false)) {
            return scheduler.cancel(id);
        }
        ObjectNode request = JSON.createObjectNode().put("id", id);
        return recordOf(fleet.rounds().requestCancel(request.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                fleet.settings().requestTimeout()));
    }

    /** The record in the trainer's answer, or the problem it answered, thrown. */
    private RoundRecord recordOf(byte[] reply) {
        try {
            JsonNode answer = JSON.readTree(reply);
            if (answer.path("status").asInt() == 202) {
                return RoundRecords.fromJson(JSON.writeValueAsBytes(answer.get("record")));
            }
            ProblemType type = Arrays.stream(ProblemType.values())
                    .filter(t -> t.slug().equals(answer.path("type").asText())).findFirst().orElse(ProblemType.ROUND_FAILED);
            throw new ProblemException(type, "the trainer (replica " + fleet.lease().holder().orElse("?") + ") answered: "
                    + answer.path("detail").asText());
        } catch (IOException e) {
            throw new UncheckedIOException("the trainer's answer is not JSON: " + e.getMessage(), e);
        }
    }

    /** The trainer's side of {@link #forwardCancel}: cancels the round here and answers with its record or the problem. */
    private byte[] answerCancel(byte[] body) {
        ObjectNode reply = JSON.createObjectNode();
        try {
            JsonNode request = JSON.readTree(body);
            if (!request.path("id").canConvertToLong()) {
                throw new IOException("expected a round id, found " + request.path("id"));
            }
            RoundRecord record = scheduler.cancel(request.get("id").asLong());
            reply.put("status", 202).set("record", JSON.readTree(RoundRecords.toJson(record)));
        } catch (ProblemException e) {
            reply.put("status", e.status()).put("type", e.type().slug()).put("detail", e.getMessage());
        } catch (IOException e) {
            reply.put("status", 400).put("type", ProblemType.MALFORMED_REQUEST.slug()).put("detail", e.getMessage());
        }
        return reply.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The trainer's side of {@link #forward}: starts the round here and answers with its record or the problem. */
    private byte[] answerRequest(byte[] body) {
        ObjectNode reply = JSON.createObjectNode();
        try {
            JsonNode request = JSON.readTree(body);
            RoundOverrides overrides = RoundOverrides.of(
                    request.has("epochs") ? request.get("epochs").asInt() : null,
                    request.has("batch_size") ? request.get("batch_size").asInt() : null,
                    request.has("learning_rate") ? request.get("learning_rate").asDouble() : null,
                    request.has("seed") ? request.get("seed").asLong() : null);
            RoundRecord queued = scheduler.start(request.path("trigger").asText("manual"), overrides);
            reply.put("status", 202).set("record", JSON.readTree(RoundRecords.toJson(queued)));
        } catch (ProblemException e) {
            reply.put("status", e.status()).put("type", e.type().slug()).put("detail", e.getMessage());
        } catch (IOException e) {
            reply.put("status", 400).put("type", ProblemType.MALFORMED_REQUEST.slug()).put("detail", e.getMessage());
        }
        return reply.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A change made here: shared with the fleet (progress at most once a second per round). */
    private void changed(RoundRecord record) {
        if (mirroring.get()) {
            return;
        }
        owned.add(record.id());
        long now = System.currentTimeMillis();
        Long last = lastShared.get(record.id());
        boolean progressOnly = record.state() == RoundState.RUNNING && last != null && now - last < PROGRESS_MILLIS;
        if (progressOnly) {
            return;
        }
        lastShared.put(record.id(), now);
        byte[] json = RoundRecords.toJson(record).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        sharing.execute(() -> fleet.rounds().put(record.id(), json));
    }

    /** A record from the fleet: kept here too, unless this replica owns the round. */
    private void mirror(String key, byte[] json) {
        try {
            RoundRecord record = RoundRecords.fromJson(json);
            if (owned.contains(record.id())) {
                return;
            }
            mirroring.set(true);
            try {
                scheduler.records().save(record);
            } finally {
                mirroring.set(false);
            }
        } catch (RuntimeException e) {
            LOG.warnf("fleet: ignoring round record '%s': %s", key, e.getMessage());
        }
    }

    @Override
    public void acquired() {
        fleet.rounds().answer(this::answerRequest, this::answerCancel);
        for (RoundRecord round : scheduler.records().open()) {
            boolean mine = scheduler.current().map(r -> r.id() == round.id()).orElse(false);
            if (!round.state().isFinal() && !mine) {
                LOG.warnf("fleet: round %d was %s when its trainer went away; recording it failed", round.id(),
                        round.state().wireName());
                scheduler.records().save(round.failed(TAKEOVER_CAUSE + " (replica " + fleet.settings().replicaId()
                        + " took the lease over)"));
            }
        }
    }

    @Override
    public void lost(String why) {
        fleet.rounds().stopAnswering();
        scheduler.current().ifPresent(round -> {
            try {
                scheduler.cancel(round.id());
            } catch (RuntimeException e) {
                LOG.debugf("fleet: round %d could not be cancelled: %s", round.id(), e.getMessage());
            }
        });
    }

    void close() {
        sharing.shutdown();
    }
}

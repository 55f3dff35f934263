package io.microkernel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/** Starts training rounds over HTTP and follows them to their end. */
final class Rounds {

    static final Set<String> TERMINAL_STATES = Set.of("promoted", "rejected", "failed", "cancelled");

    private final MicrokernelClient client;
    private int conflictsAfterFinish;

    Rounds(MicrokernelClient client) {
        this.client = client;
    }

    /**
     * A finished round: its last record, when it was started and seen finished (System.nanoTime),
     * and when each progress phase ({@code training}, {@code evaluating}...) was first seen.
     */
    record Finished(String id, String state, JsonNode record, long startedNanos, long finishedNanos,
            Map<String, Long> phaseFirstSeenNanos) {

        double seconds() {
            return (finishedNanos - startedNanos) / 1e9;
        }

        boolean promoted() {
            return "promoted".equals(state);
        }

        /**
         * The samples the round pushed through train steps: fresh samples times epochs when nothing
         * was replayed, else optimizer steps times batch size (which counts a partial last batch as full).
         */
        long trainedSamples() {
            JsonNode progress = field(record, "progress");
            JsonNode settings = field(record, "settings");
            JsonNode samples = field(record, "samples");
            if (progress == null || settings == null) {
                return -1;
            }
            JsonNode epochs = field(settings, "epochs");
            if (samples != null && epochs != null && field(samples, "replay") != null
                    && field(samples, "replay").asLong() == 0 && field(samples, "fresh") != null) {
                return field(samples, "fresh").asLong() * epochs.asLong();
            }
            JsonNode steps = field(progress, "step");
            JsonNode batch = field(settings, "batch_size", "batchSize");
            return steps == null || batch == null ? -1 : steps.asLong() * batch.asLong();
        }

        /** The round's own start-to-finish time from its record, when it carries both instants. */
        Duration serverDuration() {
            Instant started = instant(field(record, "started_at", "startedAt"));
            Instant finished = instant(field(record, "finished_at", "finishedAt"));
            return started == null || finished == null ? null : Duration.between(started, finished);
        }

        /** From first seen running to first seen evaluating: the training steps alone, to within the poll period. */
        Duration trainingPhase() {
            Long training = phaseFirstSeenNanos.get("training");
            Long evaluating = phaseFirstSeenNanos.get("evaluating");
            return training == null || evaluating == null ? null : Duration.ofNanos(evaluating - training);
        }
    }

    /** Starts a round and polls it every few milliseconds until it reaches a terminal state. */
    Finished runOne() throws IOException, InterruptedException {
        long started = System.nanoTime();
        JsonNode accepted = start();
        String id = text(accepted, "id", "round_id", "roundId");
        if (id == null) {
            throw new IOException("the round answer names no id: " + accepted);
        }
        Map<String, Long> phases = new LinkedHashMap<>();
        long deadline = started + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode record = client.getJson(client.modelPath("/rounds/" + id));
            long seenAt = System.nanoTime();
            String state = text(record, "state", "status");
            JsonNode progress = field(record, "progress");
            String phase = progress == null ? null : text(progress, "phase");
            if (phase != null) {
                phases.putIfAbsent(phase, seenAt);
            }
            if (state != null && TERMINAL_STATES.contains(state.toLowerCase())) {
                return new Finished(id, state.toLowerCase(), record, started, seenAt, phases);
            }
            // Polling is the only end signal the HTTP contract offers; a short period keeps the
            // measured duration within a few milliseconds of the real one.
            LockSupport.parkNanos(5_000_000L);
        }
        throw new IOException("round " + id + " did not finish within 10 minutes");
    }

    /**
     * Starts a round. A round already reported finished may still hold the one-round slot for a
     * moment, which the service answers with 409; those answers are counted and retried.
     */
    private JsonNode start() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            HttpResponse<String> answer = client.post(client.modelPath("/rounds"), "{}");
            if (answer.statusCode() / 100 == 2) {
                return MicrokernelClient.JSON.readTree(answer.body());
            }
            if (answer.statusCode() != 409 || System.nanoTime() > deadline) {
                throw new IOException("POST " + client.modelPath("/rounds") + " answered " + answer.statusCode() + ": "
                        + OpenLoopLoad.abbreviate(answer.body()));
            }
            conflictsAfterFinish++;
            LockSupport.parkNanos(5_000_000L);
        }
    }

    /** 409 answers to a new round after the previous one was already seen finished. */
    int conflictsAfterFinish() {
        return conflictsAfterFinish;
    }

    static JsonNode field(JsonNode node, String... names) {
        for (String name : names) {
            JsonNode value = node.get(name);
            if (value != null && !value.isNull()) {
                return value;
            }
        }
        return null;
    }

    static String text(JsonNode node, String... names) {
        JsonNode value = field(node, names);
        return value == null ? null : value.asText();
    }

    private static Instant instant(JsonNode value) {
        if (value == null) {
            return null;
        }
        if (value.isNumber()) {
            double seconds = value.asDouble();
            return Instant.ofEpochSecond((long) seconds, (long) ((seconds - Math.floor(seconds)) * 1e9));
        }
        return Instant.parse(value.asText());
    }
}

package io.microkernel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/** Starts training rounds over HTTP and follows them to their end. */
final class Rounds {

    static final Set<String> TERMINAL_STATES = Set.of("promoted", "rejected", "failed", "cancelled");

    private final MicrokernelClient client;
    private final boolean polling;
    private int conflictsAfterFinish;

    Rounds(MicrokernelClient client) {
        this(client, pollingByDefault);
    }

    Rounds(MicrokernelClient client, boolean polling) {
        this.client = client;
        this.polling = polling;
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

        /**
         * The round's time split by phase: from the start to the first phase seen ({@code starting}),
         * then each phase until the next one was first seen or the round was seen finished.
         */
        Map<String, long[]> phaseWindows() {
            Map<String, long[]> windows = new LinkedHashMap<>();
            String phase = "starting";
            long from = startedNanos;
            for (Map.Entry<String, Long> seen : phaseFirstSeenNanos.entrySet()) {
                windows.put(phase, new long[] {from, seen.getValue()});
                phase = seen.getKey();
                from = seen.getValue();
            }
            windows.put(phase, new long[] {from, finishedNanos});
            return windows;
        }

        /** From first seen running to first seen evaluating: the training steps alone, to within the poll period. */
        Duration trainingPhase() {
            Long training = phaseFirstSeenNanos.get("training");
            Long evaluating = phaseFirstSeenNanos.get("evaluating");
            return training == null || evaluating == null ? null : Duration.ofNanos(evaluating - training);
        }
    }

    /**
     * How rounds are followed to their end: by the round's server-sent events (the default, what the
     * console does), or by reading its record every {@value #POLL_MILLIS} ms ({@code --poll-rounds}).
     * Polling adds some 200 requests per second of round records while a round runs, load that
     * serving then shares the cores with.
     */
    static volatile boolean pollingByDefault;

    private static final long POLL_MILLIS = 5;

    /** Starts a round and follows it until it reaches a terminal state. */
    Finished runOne() throws IOException, InterruptedException {
        long started = System.nanoTime();
        JsonNode accepted = start();
        String id = text(accepted, "id", "round_id", "roundId");
        if (id == null) {
            throw new IOException("the round answer names no id: " + accepted);
        }
        return polling ? poll(id, started) : follow(id, started);
    }

    private Finished poll(String id, long started) throws IOException, InterruptedException {
        Map<String, Long> phases = new LinkedHashMap<>();
        long deadline = started + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            Finished finished = seen(id, client.getJson(client.modelPath("/rounds/" + id)), started, phases);
            if (finished != null) {
                return finished;
            }
            LockSupport.parkNanos(Duration.ofMillis(POLL_MILLIS).toNanos());
        }
        throw new IOException("round " + id + " did not finish within 10 minutes");
    }

    /** Reads the round's event stream: one record per event, the stream ends with the round. */
    private Finished follow(String id, long started) throws IOException, InterruptedException {
        String path = client.modelPath("/rounds/" + id + "/events");
        HttpResponse<Stream<String>> response = client.events(path, Duration.ofMinutes(10));
        try (Stream<String> lines = response.body()) {
            if (response.statusCode() != 200) {
                throw new IOException("GET " + path + " answered " + response.statusCode());
            }
            return follow(id, lines.iterator(), started);
        }
    }

    /**
     * The round as its server-sent events tell it: each event's {@code data:} lines (joined by line
     * breaks) are one record; the first terminal record ends it.
     */
    static Finished follow(String id, Iterator<String> lines, long started) throws IOException {
        Map<String, Long> phases = new LinkedHashMap<>();
        StringBuilder data = new StringBuilder();
        while (lines.hasNext()) {
            String line = lines.next();
            if (line.startsWith("data:")) {
                data.append(data.isEmpty() ? "" : "\n").append(line.substring(5).strip());
            } else if (line.isEmpty() && !data.isEmpty()) {
                Finished finished = seen(id, MicrokernelClient.JSON.readTree(data.toString()), started, phases);
                data.setLength(0);
                if (finished != null) {
                    return finished;
                }
            }
        }
        throw new IOException("the events of round " + id + " ended before the round did");
    }

    /** Notes the record's phase when first seen; the finished round when the record is terminal, else null. */
    private static Finished seen(String id, JsonNode record, long started, Map<String, Long> phases) {
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
        return null;
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

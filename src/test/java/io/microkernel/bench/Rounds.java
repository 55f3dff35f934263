package io.microkernel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/** Starts training rounds over HTTP and follows them to their end. */
final class Rounds {

    static final Set<String> TERMINAL_STATES = Set.of("promoted", "rejected", "failed", "cancelled");

    private final MicrokernelClient client;

    Rounds(MicrokernelClient client) {
        this.client = client;
    }

    /** A finished round: its record, and when it was started and seen finished (System.nanoTime). */
    record Finished(String id, String state, JsonNode record, long startedNanos, long finishedNanos) {

        double seconds() {
            return (finishedNanos - startedNanos) / 1e9;
        }

        boolean promoted() {
            return "promoted".equals(state);
        }
    }

    /** Starts a round and polls it every few milliseconds until it reaches a terminal state. */
    Finished runOne() throws IOException, InterruptedException {
        long started = System.nanoTime();
        JsonNode accepted = client.postExpecting(client.modelPath("/rounds"), "{}", 202, 200, 201);
        String id = text(accepted, "id", "round_id", "roundId");
        if (id == null) {
            throw new IOException("the round answer names no id: " + accepted);
        }
        long deadline = started + 600_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode record = client.getJson(client.modelPath("/rounds/" + id));
            String state = text(record, "state", "status");
            if (state != null && TERMINAL_STATES.contains(state.toLowerCase())) {
                return new Finished(id, state.toLowerCase(), record, started, System.nanoTime());
            }
            // Polling is the only end signal the HTTP contract offers; a short period keeps the
            // measured duration within a few milliseconds of the real one.
            LockSupport.parkNanos(5_000_000L);
        }
        throw new IOException("round " + id + " did not finish within 10 minutes");
    }

    static String text(JsonNode node, String... names) {
        for (String name : names) {
            JsonNode value = node.get(name);
            if (value != null && !value.isNull()) {
                return value.asText();
            }
        }
        return null;
    }
}

package io.microkernel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.microkernel.testing.NatsServer;
import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.Nats;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatchOption;
import io.nats.client.api.KeyValueWatcher;
import java.io.File;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The fleet phase of the benchmark: one {@code nats-server} with JetStream and three packaged
 * replicas in fleet mode (a and b trainer-eligible, c serve-only, each with its own data dir),
 * under constant open-loop inference load on all three.
 *
 * <p>One training round makes version 2 (so the fleet holds two versions); then ten fleet-wide
 * swaps, each an {@code :activate} on one replica (a, b, c in turn) alternating between versions
 * 1 and 2, the path an operator's rollback or roll-forward takes: the pointer moves, and every
 * replica follows it. For each swap, {@code fleet_convergence_ms} runs from the pointer move, as a
 * NATS watch on the pointer entry in this process sees it, to the moment the last replica answers
 * {@code /v2/models/default/infer} with the new version; one poller per replica asks for
 * inference every {@link Plan#pollGap()} all through the phase (so steady and swap windows carry
 * the same load) and reads {@code model_version}. A replica serves the new version from the first
 * answer of the unbroken run of new-version answers that ends its swap window. Swaps alternate with
 * quiet blocks of the same load (quiet, swap, quiet, ..., quiet), and
 * {@code fleet_swap_p99_over_steady_p99} is the open-loop load's p99 over all three replicas in the
 * swap windows (activate call to convergence plus a tail) over its p99 in the quiet blocks.
 *
 * <p>Skipped, saying why, when {@code nats-server} is not installed. Not thread-safe: one instance
 * runs one phase; the pollers keep their answers to themselves until they are joined, and publish
 * only their latest answer (volatile) meanwhile.
 */
final class FleetConvergence {

    /** How much work the phase does. */
    record Plan(int promotions, double ratePerReplica, Duration quietBlock, Duration swapTail, Duration pollGap,
            int samples, int epochs, Duration convergeTimeout) {

        Map<String, Object> asJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("promotions", promotions);
            json.put("open_loop_rate_per_replica_rps", ratePerReplica);
            json.put("quiet_block_seconds", quietBlock.toMillis() / 1000.0);
            json.put("swap_window_tail_ms", swapTail.toMillis());
            json.put("poll_gap_ms", pollGap.toMillis());
            json.put("samples_for_the_round", samples);
            json.put("epochs", epochs);
            return json;
        }
    }

    /**
     * The phase's plan. Three replicas, their pollers, the load and nats-server share the machine
     * with the benchmark itself: the load per replica is kept low, so that it measures the swaps
     * rather than a queue of its own making.
     */
    static Plan plan(boolean quick) {
        return quick
                ? new Plan(10, 5, Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(10), 200, 1,
                        Duration.ofSeconds(60))
                : new Plan(10, 10, Duration.ofSeconds(3), Duration.ofMillis(100), Duration.ofMillis(10), 300, 2,
                        Duration.ofSeconds(60));
    }

    private static final String MODEL = "default";
    private static final List<String> NAMES = List.of("a", "b", "c");
    private static final List<String> ROLES = List.of("trainer-eligible", "trainer-eligible", "serve-only");

    /**
     * One inference answer seen by a poller: when it was sent and answered (System.nanoTime) and the
     * version it names, or {@link #FAILED}.
     */
    record Answer(long sentNanos, long endNanos, int version) {
        static final int FAILED = -1;
    }

    /** When the pointer was seen moving to {@code version} (System.nanoTime). */
    record PointerMove(int version, long seenNanos) {
    }

    private final Path jar;
    private final Path work;
    private final ThreadCounts threads;
    private final List<String> jvmOptions;
    private final Plan plan;

    FleetConvergence(Path jar, Path work, ThreadCounts threads, List<String> jvmOptions, Plan plan) {
        this.jar = jar;
        this.work = work;
        this.threads = threads;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.plan = plan;
    }

    /** Whether {@code nats-server} is on the PATH (or where Debian's package puts it). */
    static boolean natsServerInstalled() {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!folder.isEmpty() && Files.isExecutable(Path.of(folder, "nats-server"))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin/nats-server"));
    }

    /** Runs the phase against the model bootstrapped from {@code artifacts}; returns its figures. */
    Map<String, Object> run(Path artifacts) throws Exception {
        Map<String, Object> figures = new LinkedHashMap<>();
        if (!natsServerInstalled()) {
            String why = "nats-server is not installed (apt-get install nats-server): the fleet phase was not run";
            ServiceBenchmark.log("fleet: skipped, " + why);
            figures.put("fleet_skipped", why);
            return figures;
        }
        figures.put("plan", plan.asJson());
        Path natsDir = Files.createDirectories(work.resolve("fleet-nats"));
        List<ServiceProcess> services = new ArrayList<>();
        List<MicrokernelClient> clients = new ArrayList<>();
        ServiceBenchmark.log("fleet: starting nats-server and replica a");
        try (NatsServer nats = NatsServer.start(natsDir)) {
            try {
                services.add(startReplica(artifacts, nats, 0));
                clients.add(new MicrokernelClient(services.get(0).base(), MODEL));
                ServiceBenchmark.awaitReady(services.get(0), clients.get(0));
                // a starts alone, so it sets the fleet's first version and takes the trainer lease.
                ServiceBenchmark.log("fleet: starting replicas b and c");
                for (int r = 1; r < NAMES.size(); r++) {
                    services.add(startReplica(artifacts, nats, r));
                    clients.add(new MicrokernelClient(services.get(r).base(), MODEL));
                }
                for (int r = 1; r < NAMES.size(); r++) {
                    ServiceBenchmark.awaitReady(services.get(r), clients.get(r));
                }
                measure(nats, services, clients, figures);
            } catch (Exception e) {
                StringBuilder tails = new StringBuilder();
                for (int r = 0; r < services.size(); r++) {
                    tails.append("\n--- replica ").append(NAMES.get(r)).append(" log tail ---\n")
                            .append(services.get(r).logTail());
                }
                throw new IllegalStateException("fleet: " + e.getMessage() + tails, e);
            } finally {
                clients.forEach(MicrokernelClient::close);
                for (ServiceProcess service : services) {
                    service.close();
                }
            }
        }
        return figures;
    }

    private ServiceProcess startReplica(Path artifacts, NatsServer nats, int index) throws IOException {
        String name = NAMES.get(index);
        Path dataDir = work.resolve("fleet-data-" + name);
        ServiceBenchmark.deleteRecursively(dataDir);
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("microkernel.data-dir", dataDir.toAbsolutePath().toString());
        properties.put("microkernel.model.artifacts", artifacts.toAbsolutePath().toString());
        properties.putAll(threads.serviceProperties());
        properties.put("microkernel.training.epochs", Integer.toString(plan.epochs()));
        properties.put("microkernel.training.batch-size", "32");
        // Random labels give no real improvement; the gate and the reference guard are opened so the round promotes.
        properties.put("microkernel.training.gate.max-regression", "1000000");
        properties.put("microkernel.training.gate.max-class-recall-drop", "1.0");
        properties.put("microkernel.training.reference.guard", "false");
        properties.put("microkernel.fleet.nats-url", nats.url());
        properties.put("microkernel.fleet.replica-id", name);
        properties.put("microkernel.fleet.role", ROLES.get(index));
        return ServiceProcess.start(jar, jvmOptions, properties, work.resolve("fleet-" + name + "-service.log"));
    }

    private void measure(NatsServer nats, List<ServiceProcess> services, List<MicrokernelClient> clients,
            Map<String, Object> figures) throws Exception {
        List<ModelInputs.Spec> specs = ServiceBenchmark.specsFromMetadata(clients.get(0).getJson("/v2/models/" + MODEL));
        String inferBody = ModelInputs.forSpecs(specs, 1, 1).oipRequest();
        List<MicrokernelClient> pollClients = new ArrayList<>();
        List<Poller> pollers = new ArrayList<>();
        try (Connection connection = Nats.connect(nats.url())) {
            BlockingQueue<PointerMove> moves = watchPointer(connection);
            awaitLeaseHolder(connection);
            for (ServiceProcess service : services) {
                MicrokernelClient pollClient = new MicrokernelClient(service.base(), MODEL);
                pollClients.add(pollClient);
                Poller poller = new Poller(pollClient, pollClient.inferRequest(inferBody), plan.pollGap());
                pollers.add(poller);
                poller.start();
            }

            // The fleet's second version, from one real round (its samples posted to a, trained by the lease holder).
            ServiceBenchmark.log("fleet: posting " + plan.samples() + " samples to a and training one round");
            postSamples(clients.get(0), specs, plan.samples());
            for (MicrokernelClient client : clients) {
                awaitBufferTotal(client, plan.samples());
            }
            Rounds.Finished round = new Rounds(clients.get(0)).runOne();
            if (!round.promoted()) {
                throw new IOException("the round that makes the fleet's second version ended " + round.state() + ": "
                        + round.record());
            }
            int second = round.record().path("promoted_version").asInt(-1);
            if (second < 0) {
                throw new IOException("the promoted round names no promoted_version: " + round.record());
            }
            PointerMove roundMove = awaitMove(moves, second, round.startedNanos());
            long roundConverged = awaitServing(pollers, second, roundMove.seenNanos());

            swaps(clients, pollers, moves, inferBody, 1, second, figures);

            // The round's own promotion, from the answers the pollers kept (they are joined by now).
            Map<String, Object> roundFigures = new LinkedHashMap<>();
            roundFigures.put("promoted_version", second);
            roundFigures.put("seconds_seen_by_client", Latencies.round(round.seconds()));
            long last = Long.MIN_VALUE;
            for (Poller poller : pollers) {
                last = Math.max(last, servingSince(poller.answers(), second, round.startedNanos(), roundConverged)
                        .orElseThrow(() -> new IllegalStateException("a replica never answered with version " + second)));
            }
            // One promotion through a real round: the followers also fetch the new version from the bucket.
            roundFigures.put("convergence_ms", Latencies.round((last - roundMove.seenNanos()) / 1e6));
            figures.put("round", roundFigures);
        } finally {
            for (Poller poller : pollers) {
                poller.stopAndJoin();
            }
            pollClients.forEach(MicrokernelClient::close);
        }
    }

    /** The swaps under load, between quiet blocks; fills in the figures. */
    private void swaps(List<MicrokernelClient> clients, List<Poller> pollers, BlockingQueue<PointerMove> moves,
            String inferBody, int first, int second, Map<String, Object> figures) throws Exception {
        ServiceBenchmark.log("fleet: " + plan.promotions() + " fleet-wide swaps between versions " + first + " and "
                + second + " under " + plan.ratePerReplica() + " req/s on each replica");
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<OpenLoopLoad.RequestLog>> loads = new ArrayList<>();
        for (MicrokernelClient client : clients) {
            HttpRequest infer = client.inferRequest(inferBody);
            loads.add(background(() -> OpenLoopLoad.run(client.http(), infer, plan.ratePerReplica(),
                    Duration.ofMinutes(30), stop, MicrokernelClient::isInferSuccess)));
        }
        List<long[]> quiet = new ArrayList<>();
        List<long[]> windows = new ArrayList<>();
        List<Integer> targets = new ArrayList<>();
        List<Integer> activatedOn = new ArrayList<>();
        List<long[]> calls = new ArrayList<>();
        List<Long> pointerSeen = new ArrayList<>();
        List<OpenLoopLoad.RequestLog> logs = new ArrayList<>();
        try {
            for (int i = 0; i < plan.promotions(); i++) {
                quiet.add(quietBlock());
                int target = i % 2 == 0 ? first : second;
                int on = i % clients.size();
                MicrokernelClient client = clients.get(on);
                long start = System.nanoTime();
                HttpResponse<String> answer = client.post(client.modelPath("/versions/" + target + ":activate"), "");
                long end = System.nanoTime();
                if (answer.statusCode() / 100 != 2) {
                    throw new IOException(":activate of version " + target + " on replica " + NAMES.get(on) + " answered "
                            + answer.statusCode() + ": " + OpenLoopLoad.abbreviate(answer.body()));
                }
                PointerMove move = awaitMove(moves, target, start);
                long converged = awaitServing(pollers, target, move.seenNanos());
                // Pacing: requests answered just after convergence still belong to the swap window.
                LockSupport.parkNanos(plan.swapTail().toNanos());
                windows.add(new long[] {start, converged + plan.swapTail().toNanos()});
                targets.add(target);
                activatedOn.add(on);
                calls.add(new long[] {start, end});
                pointerSeen.add(move.seenNanos());
            }
            quiet.add(quietBlock());
        } finally {
            stop.set(true);
            for (Future<OpenLoopLoad.RequestLog> load : loads) {
                logs.add(load.get());
            }
        }
        for (Poller poller : pollers) {
            poller.stopAndJoin();
        }

        List<Map<String, Object>> promotions = new ArrayList<>();
        List<Double> convergence = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            long[] window = windows.get(i);
            int target = targets.get(i);
            Map<String, Object> promotion = new LinkedHashMap<>();
            promotion.put("version", target);
            promotion.put("activated_on", NAMES.get(activatedOn.get(i)));
            promotion.put("activate_call_ms", Latencies.round((calls.get(i)[1] - calls.get(i)[0]) / 1e6));
            promotion.put("pointer_seen_ms_after_call_start", Latencies.round((pointerSeen.get(i) - window[0]) / 1e6));
            Map<String, Object> perReplica = new LinkedHashMap<>();
            long last = Long.MIN_VALUE;
            for (int r = 0; r < pollers.size(); r++) {
                OptionalLong since = servingSince(pollers.get(r).answers(), target, window[0], window[1]);
                if (since.isEmpty()) {
                    throw new IllegalStateException("replica " + NAMES.get(r) + " never answered with version " + target
                            + " in swap window " + i);
                }
                perReplica.put(NAMES.get(r), Latencies.round((since.getAsLong() - pointerSeen.get(i)) / 1e6));
                last = Math.max(last, since.getAsLong());
            }
            double ms = Latencies.round((last - pointerSeen.get(i)) / 1e6);
            convergence.add(ms);
            promotion.put("convergence_ms", ms);
            promotion.put("replica_serving_ms_after_pointer_move", perReplica);
            promotions.add(promotion);
        }

        Latencies during = new Latencies();
        Latencies steady = new Latencies();
        int failed = 0;
        long sent = 0;
        List<String> failuresSeen = new ArrayList<>();
        for (OpenLoopLoad.RequestLog log : logs) {
            during.add(log.overlapping(windows, true));
            steady.add(log.within(quiet));
            failed += log.failed();
            sent += log.sent;
            failuresSeen.addAll(log.firstFailures);
        }
        int pollFailures = 0;
        long polled = 0;
        for (Poller poller : pollers) {
            pollFailures += poller.failures();
            polled += poller.answers().size();
            failuresSeen.addAll(poller.firstFailures());
        }
        figures.put("fleet_convergence_ms", p50AndMax(convergence));
        figures.put("fleet_swap_p99_over_steady_p99", ServiceBenchmark.ratio(during.p99Ms(), steady.p99Ms()));
        figures.put("fleet_swap_p50_over_steady_p50", ServiceBenchmark.ratio(during.p50Ms(), steady.p50Ms()));
        figures.put("fleet_failed_requests", failed + pollFailures);
        figures.put("load_requests", sent);
        figures.put("load_failed_requests", failed);
        figures.put("poll_requests", polled);
        figures.put("poll_failed_requests", pollFailures);
        figures.put("failures_seen", failuresSeen);
        Map<String, Object> latencies = new LinkedHashMap<>();
        latencies.put("during_fleet_swaps", during.summary());
        latencies.put("quiet_between_fleet_swaps", steady.summary());
        figures.put("latencies", latencies);
        figures.put("promotions", promotions);
    }

    /**
     * When a replica started serving {@code version} for good inside {@code [from, until]}: the
     * answer time of the first answer in the unbroken run of {@code version} answers that ends the
     * interval; empty when the last answer in it names another version or failed, or there is none.
     * Answers are in the order one poller got them (one at a time).
     */
    static OptionalLong servingSince(List<Answer> answers, int version, long from, long until) {
        OptionalLong since = OptionalLong.empty();
        for (Answer answer : answers) {
            if (answer.endNanos() < from || answer.endNanos() > until) {
                continue;
            }
            if (answer.version() != version) {
                since = OptionalLong.empty();
            } else if (since.isEmpty()) {
                since = OptionalLong.of(answer.endNanos());
            }
        }
        return since;
    }

    /**
     * {@code {"p50": .., "max": ..}} of the values: p50 by nearest rank (the value at rank
     * ceil(n/2) in ascending order, one of the values, as HdrHistogram reports it).
     */
    static Map<String, Object> p50AndMax(List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("expected at least one value, found none");
        }
        List<Double> sorted = values.stream().sorted().toList();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("p50", sorted.get((sorted.size() + 1) / 2 - 1));
        summary.put("max", sorted.get(sorted.size() - 1));
        return summary;
    }

    /** A block of plain load with nothing else going on; returns its time window. */
    private long[] quietBlock() {
        long start = System.nanoTime();
        // Paces the phase; nothing waits on a condition here.
        LockSupport.parkNanos(plan.quietBlock().toNanos());
        return new long[] {start, System.nanoTime()};
    }

    /** Every move of the fleet's active pointer from now on, as a NATS watch in this process sees it. */
    private BlockingQueue<PointerMove> watchPointer(Connection connection) throws Exception {
        String bucket = "mk-active-" + MODEL;
        long deadline = System.nanoTime() + plan.convergeTimeout().toNanos();
        KeyValue pointer = null;
        while (pointer == null) {
            try {
                KeyValue candidate = connection.keyValue(bucket);
                if (candidate.get("active") != null) {
                    pointer = candidate;
                }
            } catch (IOException | io.nats.client.JetStreamApiException notYet) {
                // The bucket appears when the first replica sets the fleet's first version.
            }
            if (pointer == null) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("no replica set the fleet's active version (bucket " + bucket + ", key active)"
                            + " within " + plan.convergeTimeout().toSeconds() + " s");
                }
                LockSupport.parkNanos(50_000_000L);
            }
        }
        BlockingQueue<PointerMove> moves = new LinkedBlockingQueue<>();
        pointer.watch("active", new KeyValueWatcher() {
            @Override
            public void watch(KeyValueEntry entry) {
                long seen = System.nanoTime();
                if (entry.getOperation() != KeyValueOperation.PUT) {
                    return;
                }
                try {
                    JsonNode value = MicrokernelClient.JSON.readTree(entry.getValue());
                    moves.add(new PointerMove(value.path("version").asInt(-1), seen));
                } catch (IOException e) {
                    ServiceBenchmark.log("fleet: unreadable pointer entry: " + e.getMessage());
                }
            }

            @Override
            public void endOfData() {
                // Updates only: nothing to wait for.
            }
        }, KeyValueWatchOption.UPDATES_ONLY);
        return moves;
    }

    private void awaitLeaseHolder(Connection connection) throws Exception {
        long deadline = System.nanoTime() + plan.convergeTimeout().toNanos();
        while (System.nanoTime() < deadline) {
            try {
                KeyValueEntry entry = connection.keyValue("mk-lease-" + MODEL).get("trainer");
                if (entry != null && entry.getValue() != null) {
                    return;
                }
            } catch (IOException | io.nats.client.JetStreamApiException notYet) {
                // The bucket appears when the first trainer-eligible replica asks for the lease.
            }
            LockSupport.parkNanos(50_000_000L);
        }
        throw new IOException("no replica took the trainer lease within " + plan.convergeTimeout().toSeconds() + " s");
    }

    /** The first move to {@code version} seen at or after {@code after}. */
    private PointerMove awaitMove(BlockingQueue<PointerMove> moves, int version, long after) throws Exception {
        long deadline = System.nanoTime() + plan.convergeTimeout().toNanos();
        while (true) {
            PointerMove move = moves.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (move == null) {
                throw new IOException("the pointer watch did not see a move to version " + version + " within "
                        + plan.convergeTimeout().toSeconds() + " s");
            }
            if (move.version() == version && move.seenNanos() >= after) {
                return move;
            }
        }
    }

    /**
     * Waits until every poller's latest answer, answered at or after {@code after}, names
     * {@code version}; returns when it saw that (an upper bound of the convergence the answers give).
     */
    private long awaitServing(List<Poller> pollers, int version, long after) throws IOException {
        long deadline = System.nanoTime() + plan.convergeTimeout().toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (Poller poller : pollers) {
                Answer latest = poller.latest();
                if (latest == null || latest.version() != version || latest.endNanos() < after) {
                    all = false;
                    break;
                }
            }
            if (all) {
                return System.nanoTime();
            }
            LockSupport.parkNanos(1_000_000L);
        }
        List<Object> latest = new ArrayList<>();
        pollers.forEach(p -> latest.add(p.latest()));
        throw new IOException("the replicas did not all serve version " + version + " within "
                + plan.convergeTimeout().toSeconds() + " s; their latest answers: " + latest);
    }

    private static void postSamples(MicrokernelClient client, List<ModelInputs.Spec> specs, int count)
            throws Exception {
        int perRequest = 50;
        for (int offset = 0; offset < count; offset += perRequest) {
            int batch = Math.min(perRequest, count - offset);
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = (offset + i) % 2;
            }
            String body = ModelInputs.forSpecs(specs, batch, 1_000L + offset).samplesRequest(labels);
            client.postExpecting(client.modelPath("/samples"), body, 202, 200);
        }
    }

    private void awaitBufferTotal(MicrokernelClient client, long total) throws Exception {
        long deadline = System.nanoTime() + plan.convergeTimeout().toNanos();
        long seen = -1;
        while (System.nanoTime() < deadline) {
            seen = client.getJson(client.modelPath("/samples")).path("total").asLong(-1);
            if (seen == total) {
                return;
            }
            LockSupport.parkNanos(20_000_000L);
        }
        throw new IOException("GET " + client.modelPath("/samples") + " expected total " + total + ", found " + seen
                + " after " + plan.convergeTimeout().toSeconds() + " s");
    }

    private static <T> Future<T> background(java.util.concurrent.Callable<T> task) {
        return ServiceBenchmark.background(task, "bench-fleet-load");
    }

    /** The figures as table lines. */
    static String describe(Map<String, Object> figures) {
        StringBuilder table = new StringBuilder("| fleet figure | value |\n|---|---|\n");
        for (String key : List.of("fleet_skipped", "fleet_convergence_ms", "fleet_swap_p99_over_steady_p99",
                "fleet_swap_p50_over_steady_p50", "fleet_failed_requests", "load_requests", "poll_requests")) {
            if (figures.containsKey(key)) {
                table.append(String.format("| %-46s | %14s |%n", key, figures.get(key)));
            }
        }
        return table.toString();
    }

    /**
     * Asks one replica for inference every poll gap, one request at a time, and keeps every answer
     * with the version it names. Its answer list is read only after {@link #stopAndJoin()}.
     */
    private static final class Poller {
        private final MicrokernelClient client;
        private final HttpRequest request;
        private final Duration gap;
        private final List<Answer> answers = new ArrayList<>();
        private final List<String> firstFailures = new CopyOnWriteArrayList<>();
        private final AtomicInteger failures = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;
        private volatile Answer latest;

        Poller(MicrokernelClient client, HttpRequest request, Duration gap) {
            this.client = client;
            this.request = request;
            this.gap = gap;
            this.thread = new Thread(this::loop, "bench-fleet-poller");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void loop() {
            while (running.get()) {
                long sent = System.nanoTime();
                int version = Answer.FAILED;
                String failure = null;
                try {
                    HttpResponse<String> response = client.send(request);
                    if (MicrokernelClient.isInferSuccess(response)) {
                        version = MicrokernelClient.JSON.readTree(response.body()).path("model_version").asInt(Answer.FAILED);
                    }
                    if (version == Answer.FAILED) {
                        failure = response.statusCode() + " " + OpenLoopLoad.abbreviate(response.body());
                    }
                } catch (IOException e) {
                    failure = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                Answer answer = new Answer(sent, System.nanoTime(), version);
                answers.add(answer);
                latest = answer;
                if (failure != null) {
                    failures.incrementAndGet();
                    if (firstFailures.size() < 5) {
                        firstFailures.add(failure);
                    }
                }
                LockSupport.parkNanos(gap.toNanos());
            }
        }

        Answer latest() {
            return latest;
        }

        void stopAndJoin() throws InterruptedException {
            running.set(false);
            thread.join(TimeUnit.SECONDS.toMillis(60));
        }

        /** Every answer, in order; only after {@link #stopAndJoin()}. */
        List<Answer> answers() {
            if (thread.isAlive()) {
                throw new IllegalStateException("the poller is still running");
            }
            return answers;
        }

        int failures() {
            return failures.get();
        }

        List<String> firstFailures() {
            return firstFailures;
        }
    }
}

package io.microkernel.bench;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Rounds giving way to serving against not ({@code bench/run --rounds-only}): services started like
 * the run's own, one per variant of {@code microkernel.training.round-priority.*}, each with the
 * plan's samples and one warm-up round (one variant differs only in how the bench follows its rounds:
 * by polling their records instead of by their events), then measured in alternating repetitions (the order flips
 * each time) under the same open-loop load: a quiet block of load alone, then rounds back to back
 * with {@value #NEW_SAMPLES_PER_ROUND} new samples before each. Per variant, requests overlapping a
 * round against requests of its quiet blocks give {@code infer_p99_during_round_over_idle}.
 */
final class RoundYieldComparison {

    private static final int NEW_SAMPLES_PER_ROUND = 20;
    /** The load's first requests open connections; the quiet window starts after them. */
    private static final Duration LOAD_SETTLE = Duration.ofMillis(500);

    /**
     * One setting compared: its name in the results, the service properties it differs by, and
     * whether the bench follows its rounds by polling their records instead of by their events.
     */
    record Variant(String name, Map<String, String> properties, boolean polled) {
        Variant(String name, Map<String, String> properties) {
            this(name, properties, false);
        }
    }

    static final List<Variant> VARIANTS = List.of(
            new Variant("yield", Map.of("microkernel.training.round-priority.yield-to-serving", "true")),
            new Variant("yield_polled", Map.of("microkernel.training.round-priority.yield-to-serving", "true"), true),
            new Variant("no_yield", Map.of("microkernel.training.round-priority.yield-to-serving", "false")),
            new Variant("no_yield_nice0", Map.of("microkernel.training.round-priority.yield-to-serving", "false",
                    "microkernel.training.round-priority.nice", "0")));

    private final ServiceBenchmark bench;
    private final ServiceBenchmark.Plan plan;
    private final int repetitions;
    private final Duration roundBlock;

    RoundYieldComparison(ServiceBenchmark bench, ServiceBenchmark.Plan plan, int repetitions, Duration roundBlock) {
        this.bench = bench;
        this.plan = plan;
        this.repetitions = repetitions;
        this.roundBlock = roundBlock;
    }

    /** What one variant collected over all repetitions. */
    private static final class Collected {
        final Latencies during = new Latencies();
        final Latencies idle = new Latencies();
        final List<Double> ratios = new ArrayList<>();
        final List<String> outcomes = new ArrayList<>();
        /** Requests overlapping each phase of the rounds ({@link Rounds.Finished#phaseWindows()}). */
        final Map<String, Latencies> byPhase = new LinkedHashMap<>();
        int failed;
        double roundSeconds;
    }

    void measure(String label, String inferBody, ServiceBenchmark.SamplePoster samples, double rate,
            Map<String, Object> figures, Map<String, Object> latencies) throws Exception {
        ServiceBenchmark.log(label + ": rounds under load, " + VARIANTS.stream().map(Variant::name).toList()
                + ", " + repetitions + " alternating repetitions at " + rate + " req/s");
        List<ServiceProcess> services = new ArrayList<>();
        List<MicrokernelClient> clients = new ArrayList<>();
        try {
            for (Variant variant : VARIANTS) {
                ServiceProcess service = bench.startLike(label + "-" + variant.name(), variant.properties());
                services.add(service);
                MicrokernelClient client = new MicrokernelClient(service.base(), ServiceBenchmark.MODEL);
                clients.add(client);
                ServiceBenchmark.awaitReadyService(service, client);
                HttpRequest infer = client.inferRequest(inferBody);
                for (int i = 0; i < plan.warmupRequests(); i++) {
                    ServiceBenchmark.requireSuccess(client.send(infer));
                }
                samples.post(client, plan.samples());
                new Rounds(client).runOne();
            }
            Map<String, Collected> collected = new LinkedHashMap<>();
            Map<String, double[]> metersBefore = new LinkedHashMap<>();
            for (int v = 0; v < VARIANTS.size(); v++) {
                collected.put(VARIANTS.get(v).name(), new Collected());
                metersBefore.put(VARIANTS.get(v).name(), meters(clients.get(v)));
            }
            for (int rep = 0; rep < repetitions; rep++) {
                for (int k = 0; k < VARIANTS.size(); k++) {
                    int v = rep % 2 == 0 ? k : VARIANTS.size() - 1 - k;
                    block(clients.get(v), VARIANTS.get(v).polled(), inferBody, samples, rate,
                            collected.get(VARIANTS.get(v).name()));
                }
            }
            Map<String, Object> detail = new LinkedHashMap<>();
            for (int v = 0; v < VARIANTS.size(); v++) {
                Variant variant = VARIANTS.get(v);
                Collected c = collected.get(variant.name());
                double[] before = metersBefore.get(variant.name());
                double[] after = meters(clients.get(v));
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("service_properties", variant.properties());
                json.put("rounds_followed_by", variant.polled() ? "polling every 5 ms" : "server-sent events");
                json.put("infer_p99_during_round_over_idle", ServiceBenchmark.ratio(c.during.p99Ms(), c.idle.p99Ms()));
                json.put("infer_p50_during_round_over_idle", ServiceBenchmark.ratio(c.during.p50Ms(), c.idle.p50Ms()));
                json.put("per_repetition_p99_ratio", c.ratios);
                json.put("rounds", c.outcomes.size());
                json.put("rounds_promoted", c.outcomes.stream().filter("promoted"::equals).count());
                json.put("mean_round_seconds_seen_by_client", Latencies.round(c.roundSeconds / Math.max(1, c.outcomes.size())));
                json.put("failed_requests", c.failed);
                json.put("round_yields", after[0] - before[0]);
                json.put("round_yielded_seconds", Latencies.round(after[1] - before[1]));
                json.put("gc_pauses", after[2] - before[2]);
                json.put("gc_pause_seconds", Latencies.round(after[3] - before[3]));
                detail.put(variant.name(), json);
                latencies.put("during_rounds_" + variant.name(), c.during.summary());
                Map<String, Object> byPhase = new LinkedHashMap<>();
                c.byPhase.forEach((phase, l) -> byPhase.put(phase, l.summary()));
                latencies.put("during_round_phases_" + variant.name(), byPhase);
                latencies.put("quiet_between_round_blocks_" + variant.name(), c.idle.summary());
                figures.put("infer_p99_during_round_over_idle_" + variant.name(), json.get("infer_p99_during_round_over_idle"));
            }
            detail.put("repetitions", repetitions);
            detail.put("round_block_seconds", roundBlock.toMillis() / 1000.0);
            detail.put("quiet_block_seconds", plan.quietBlock().toMillis() / 1000.0);
            detail.put("open_loop_rate_rps", rate);
            figures.put("round_yield", detail);
            figures.put("infer_p99_during_round_over_idle", figures.get("infer_p99_during_round_over_idle_yield"));
        } finally {
            for (MicrokernelClient client : clients) {
                client.close();
            }
            for (ServiceProcess service : services) {
                service.close();
            }
        }
    }

    /** A quiet block of load alone, then rounds back to back for the round block, under one open-loop load. */
    private void block(MicrokernelClient client, boolean polled, String inferBody, ServiceBenchmark.SamplePoster samples,
            double rate, Collected into) throws Exception {
        HttpRequest infer = client.inferRequest(inferBody);
        AtomicBoolean stop = new AtomicBoolean();
        Future<OpenLoopLoad.RequestLog> load = ServiceBenchmark.background(() -> OpenLoopLoad.run(client.http(), infer,
                rate, Duration.ofMinutes(10), stop, MicrokernelClient::isInferSuccess), "bench-open-loop");
        LockSupport.parkNanos(LOAD_SETTLE.toNanos());
        long quietStart = System.nanoTime();
        LockSupport.parkNanos(plan.quietBlock().toNanos());
        List<long[]> quiet = List.of(new long[] {quietStart, System.nanoTime()});
        List<long[]> windows = new ArrayList<>();
        Map<String, List<long[]>> phaseWindows = new LinkedHashMap<>();
        Rounds rounds = new Rounds(client, polled);
        long endAt = System.nanoTime() + roundBlock.toNanos();
        do {
            samples.post(client, NEW_SAMPLES_PER_ROUND);
            Rounds.Finished round = rounds.runOne();
            windows.add(new long[] {round.startedNanos(), round.finishedNanos()});
            round.phaseWindows().forEach((phase, window) -> phaseWindows.computeIfAbsent(phase, p -> new ArrayList<>())
                    .add(window));
            into.outcomes.add(round.state());
            into.roundSeconds += round.seconds();
        } while (System.nanoTime() < endAt);
        stop.set(true);
        OpenLoopLoad.RequestLog log = load.get();
        Latencies during = log.overlapping(windows, true);
        Latencies idle = log.within(quiet);
        into.during.add(during);
        phaseWindows.forEach((phase, list) -> into.byPhase.computeIfAbsent(phase, p -> new Latencies())
                .add(log.overlapping(list, true)));
        into.idle.add(idle);
        into.ratios.add(ServiceBenchmark.ratio(during.p99Ms(), idle.p99Ms()));
        into.failed += log.failed();
    }

    /** {round yields, seconds yielded, GC pauses, GC pause seconds} from the service's metrics; NaN where absent. */
    private static double[] meters(MicrokernelClient client) throws IOException, InterruptedException {
        HttpResponse<String> metrics = client.get("/q/metrics");
        double[] values = {0, 0, 0, 0};
        String[] prefixes = {"microkernel_training_round_yields_total", "microkernel_training_round_yielded_seconds_total",
            "jvm_gc_pause_seconds_count", "jvm_gc_pause_seconds_sum"};
        for (String line : metrics.body().lines().toList()) {
            for (int i = 0; i < prefixes.length; i++) {
                if (line.startsWith(prefixes[i])) {
                    values[i] += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return values;
    }
}

package io.microkernel.bench;

import io.microkernel.runtime.OrtRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark command ({@code bench/run}): runs the packaged service and the in-process
 * baselines side by side, prints a table of ratios, and writes {@code bench/results.json} and
 * {@code bench/results.png}.
 *
 * <p>Options: {@code --quick} (a short smoke run with small counts), {@code --models default,heavy,edge,fleet}
 * (which phases to run; {@code edge} is {@link EdgeBenchmark}, {@code fleet} is {@link FleetConvergence};
 * {@code --skip-heavy} is {@code --models default,edge,fleet}), {@code --skip-fleet} (leave the fleet phase out), {@code --jar <path>},
 * {@code --out <folder>}, {@code --work <folder>}, {@code --default-model <artifact folder>},
 * {@code --replot} (redraw the chart from an existing results.json), {@code --serving-only} (the inference
 * phases only, without rounds, swaps and the memory slope; results go to {@code --out} as usual),
 * {@code --batching-only} (start-up, warm-up and {@link BatchingComparison} only), {@code --saturation-only}
 * (start-up, warm-up, the concurrency-1 and batch phases and {@link HttpSaturation} only), {@code --compare-jar <path>}
 * (a service from another jar measured beside this run's in {@link HttpSaturation}), {@code --rounds-only [n]}
 * (start-up, warm-up and {@link RoundYieldComparison} only, in {@code n} alternating repetitions, 4 by default).
 */
public final class BenchmarkMain {

    static final ThreadCounts THREADS = new ThreadCounts(1, 1, 1);
    static final List<String> SERVICE_JVM_OPTIONS = List.of("-Xmx512m");

    private BenchmarkMain() {
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            run(args);
        } catch (Exception e) {
            System.err.println("[bench] failed: " + e.getMessage());
            e.printStackTrace();
            status = 1;
        }
        // HTTP client and ONNX Runtime threads would otherwise keep the JVM alive.
        System.exit(status);
    }

    private static void run(String[] args) throws Exception {
        boolean quick = false;
        boolean servingOnly = false;
        boolean batchingOnly = false;
        boolean saturationOnly = false;
        Path compareJar = null;
        int roundRepetitions = 0;
        List<String> selected = List.of("default", "heavy", "edge", "fleet");
        boolean skipFleet = false;
        Path jar = Path.of("target", "onnx-microkernel-0.1.0-SNAPSHOT-runner.jar");
        Path out = Path.of("bench");
        Path work = Path.of("bench", "work");
        Path defaultModel = Path.of("models", "default");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--serving-only" -> servingOnly = true;
                case "--batching-only" -> {
                    servingOnly = true;
                    batchingOnly = true;
                }
                case "--saturation-only" -> {
                    servingOnly = true;
                    saturationOnly = true;
                }
                case "--compare-jar" -> compareJar = Path.of(args[++i]);
                case "--rounds-only" -> {
                    servingOnly = true;
                    roundRepetitions = i + 1 < args.length && args[i + 1].matches("\\d+") ? Integer.parseInt(args[++i]) : 4;
                }
                case "--skip-heavy" -> selected = List.of("default", "edge", "fleet");
                case "--skip-fleet" -> skipFleet = true;
                case "--poll-rounds" -> Rounds.pollingByDefault = true;
                case "--models" -> selected = List.of(args[++i].split(","));
                case "--jar" -> jar = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--default-model" -> defaultModel = Path.of(args[++i]);
                case "--replot" -> {
                    replot(out);
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; expected --quick, --models default,heavy, --skip-heavy, --jar <path>, --out <folder>,"
                        + " --work <folder>, --default-model <folder>, --serving-only, --batching-only, --saturation-only,"
                        + " --compare-jar <path>, --rounds-only [n], --skip-fleet");
            }
        }
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no service jar at " + jar + "; build it with ./mvnw -B -q package -DskipTests");
        }
        Files.createDirectories(work);
        long started = System.nanoTime();
        String loadAtStart = loadAverage();

        var env = OrtRuntime.bundled().environment();
        Map<String, Map<String, Object>> models = new LinkedHashMap<>();
        Map<String, Object> plans = new LinkedHashMap<>();

        if (selected.contains("default")) {
            ServiceBenchmark.Plan defaultPlan = quick ? quickPlan(false) : defaultModelPlan();
            plans.put("default", defaultPlan.asJson());
            ServiceBenchmark bench = new ServiceBenchmark(jar, work, THREADS, defaultPlan, env, SERVICE_JVM_OPTIONS)
                    .compareJar(compareJar);
            models.put("default", (roundRepetitions > 0 ? bench.roundsOnly(roundRepetitions) : batchingOnly ? bench.batchingOnly() : saturationOnly ? bench.saturationOnly()
                    : servingOnly ? bench.servingOnly() : bench)
                    .run("default", defaultModel, true));
            if (!servingOnly) {
                // Closing the loop: the prediction log and the drift watch, each against both off, side by side.
                models.get("default").putAll(LoopOverhead.measure(jar, work, defaultModel, SERVICE_JVM_OPTIONS,
                        quick ? 50 : 300, quick ? 3 : 20, quick ? 50 : 200));
            }
        }
        if (selected.contains("heavy")) {
            Path heavyArtifacts = work.resolve("heavy-artifacts");
            ServiceBenchmark.log("heavy: building its artifact set");
            HeavyModelArtifacts.build(heavyArtifacts);
            ServiceBenchmark.Plan heavyPlan = quick ? quickPlan(true) : heavyModelPlan();
            plans.put("heavy", heavyPlan.asJson());
            ServiceBenchmark bench = new ServiceBenchmark(jar, work, THREADS, heavyPlan, env, SERVICE_JVM_OPTIONS);
            models.put("heavy", (roundRepetitions > 0 ? bench.roundsOnly(roundRepetitions) : batchingOnly ? bench.batchingOnly()
                    : servingOnly ? bench.servingOnly() : bench)
                    .run("heavy", heavyArtifacts, false));
        }

        Map<String, Object> context = new LinkedHashMap<>();
        context.put("ort_threads", THREADS.asJson());
        context.put("ort_version", env.getVersion());
        context.put("machine", machine());
        // Other work on a shared machine moves absolute times; the load average says how much there was.
        context.put("load_average_at_start", loadAtStart);
        context.put("load_average_at_end", loadAverage());
        context.put("quick", quick);
        context.put("plans", plans);
        context.put("finished_at", Instant.now().toString());
        context.put("duration_s", Math.round((System.nanoTime() - started) / 1e9));

        String edgeTable = "";
        if (selected.contains("edge")) {
            // Start-up and footprint of the fast path and the edge profile (README "Edge and ARM").
            Map<String, Object> edge = new EdgeBenchmark(jar, work, quick).run();
            for (String key : List.of("startup_to_first_inference_ms_fast", "startup_speedup",
                    "startup_to_first_inference_ms_fast_edge", "startup_speedup_edge", "rss_mb_idle_edge")) {
                context.put(key, edge.get(key));
            }
            context.put("edge", edge);
            edgeTable = "\n" + EdgeBenchmark.describe(edge);
        }
        String fleetTable = "";
        if (selected.contains("fleet") && !skipFleet && !servingOnly) {
            // Three replicas in fleet mode on one nats-server: convergence after a fleet-wide swap (README "Fleet mode").
            FleetConvergence.Plan fleetPlan = FleetConvergence.plan(quick);
            plans.put("fleet", fleetPlan.asJson());
            Map<String, Object> fleet = new FleetConvergence(jar, work, THREADS, SERVICE_JVM_OPTIONS, fleetPlan)
                    .run(defaultModel);
            for (String key : ResultsReport.FLEET_KEYS) {
                context.put(key, fleet.get(key));
            }
            context.put("fleet", fleet);
            fleetTable = "\n" + FleetConvergence.describe(fleet);
        }
        // The edge and fleet phases run after the context was first filled: their time counts too.
        context.put("load_average_at_end", loadAverage());
        context.put("finished_at", Instant.now().toString());
        context.put("duration_s", Math.round((System.nanoTime() - started) / 1e9));
        String table = ResultsReport.table(models) + edgeTable + fleetTable;
        System.out.println();
        System.out.println(table);
        Path json = out.resolve("results.json");
        Path chart = out.resolve("results.png");
        ResultsReport.writeJson(ResultsReport.results(context, models), json);
        if (!models.isEmpty()) {
            ResultsReport.writeChart(models, chart);
        }
        Files.writeString(work.resolve("table.md"), table);
        ServiceBenchmark.log("wrote " + json + " and " + chart + " in " + context.get("duration_s") + " s");
    }

    /** Redraws the chart from an existing results.json, without measuring anything. */
    @SuppressWarnings("unchecked")
    private static void replot(Path out) throws IOException {
        Map<String, Object> results = MicrokernelClient.JSON.readValue(out.resolve("results.json").toFile(), Map.class);
        ResultsReport.writeChart((Map<String, Map<String, Object>>) results.get("models"), out.resolve("results.png"));
        ServiceBenchmark.log("redrew " + out.resolve("results.png"));
    }

    static ServiceBenchmark.Plan defaultModelPlan() {
        return new ServiceBenchmark.Plan(2_000, 20, 300, Duration.ofSeconds(5), 8, cores(),
                Duration.ofSeconds(10), 300, 2_000, 100, 5, 32, 30, Duration.ofMillis(300), Duration.ofMillis(100),
                Duration.ofSeconds(15), 3, Duration.ofSeconds(4), 10_000, 50, 100);
    }

    static ServiceBenchmark.Plan heavyModelPlan() {
        return new ServiceBenchmark.Plan(500, 10, 100, Duration.ofSeconds(5), 8, cores(),
                Duration.ofSeconds(10), 300, 600, 50, 5, 32, 30, Duration.ofMillis(300), Duration.ofMillis(100),
                Duration.ofSeconds(15), 3, Duration.ofSeconds(4), 0, 0, 30);
    }

    static ServiceBenchmark.Plan quickPlan(boolean heavy) {
        return new ServiceBenchmark.Plan(200, 3, 100, Duration.ofSeconds(2), 8, cores(),
                Duration.ofSeconds(3), 200, heavy ? 200 : 300, 50, 2, 32, 20, Duration.ofMillis(100),
                Duration.ofMillis(100), Duration.ofSeconds(4), 2, Duration.ofSeconds(1), 2_000, 5, 10);
    }

    private static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    static Map<String, Object> machine() throws IOException {
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("nproc", cores());
        machine.put("cpu_model", firstValue(Path.of("/proc/cpuinfo"), "model name"));
        machine.put("memory_total", firstValue(Path.of("/proc/meminfo"), "MemTotal"));
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vendor") + ")");
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version")
                + " " + System.getProperty("os.arch"));
        return machine;
    }

    private static String loadAverage() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        return Files.isReadable(loadavg) ? Files.readString(loadavg).trim() : "unknown";
    }

    private static String firstValue(Path file, String key) throws IOException {
        if (!Files.isReadable(file)) {
            return "unknown";
        }
        return Files.readAllLines(file).stream()
                .filter(line -> line.startsWith(key))
                .map(line -> line.substring(line.indexOf(':') + 1).trim())
                .findFirst().orElse("unknown");
    }
}

package io.microkernel.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Every phase of the benchmark against one model: the packaged service as a child process, and
 * the in-process baselines on the very inference model the service bootstrapped.
 *
 * <p>Phases run one after the other in one run, so the ratios compare figures taken minutes apart
 * on the same machine.
 */
final class ServiceBenchmark {

    /** How much work each phase does. */
    record Plan(int warmupRequests, int comparisonBlocks, int requestsPerBlock, Duration saturation,
            int httpSaturationClients, int inProcessSaturationThreads, Duration steady, double maxOpenLoopRate,
            int samples, int samplesPerRequest, int epochs, int trainBatch, int swaps, Duration swapGap,
            Duration swapTail, Duration roundLoad, int blocks, Duration quietBlock, int rssRequests, int rssRounds,
            int shareSteps) {

        Map<String, Object> asJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("warmup_requests", warmupRequests);
            json.put("concurrency1_requests_each", comparisonBlocks * requestsPerBlock);
            json.put("saturation_seconds", saturation.toMillis() / 1000.0);
            json.put("http_saturation_clients", httpSaturationClients);
            json.put("inprocess_saturation_threads", inProcessSaturationThreads);
            json.put("steady_seconds", steady.toMillis() / 1000.0);
            json.put("samples", samples);
            json.put("epochs", epochs);
            json.put("train_batch", trainBatch);
            json.put("swaps", swaps);
            json.put("swap_gap_ms", swapGap.toMillis());
            json.put("swap_window_tail_ms", swapTail.toMillis());
            json.put("round_load_seconds", roundLoad.toMillis() / 1000.0);
            json.put("alternating_blocks", blocks);
            json.put("quiet_block_seconds", quietBlock.toMillis() / 1000.0);
            json.put("rss_requests", rssRequests);
            json.put("rss_rounds", rssRounds);
            json.put("backbone_share_steps", shareSteps);
            return json;
        }
    }

    static final String MODEL = "default";
    private static final int NEW_SAMPLES_PER_ROUND = 20;
    private static final int RSS_REQUEST_SEGMENTS = 3;

    private final Path jar;
    private final Path work;
    private final ThreadCounts threads;
    private final Plan plan;
    private final OrtEnvironment env;
    private final List<String> jvmOptions;

    private long inferenceRequests;
    private int samplesPosted;
    /** How the service of this run was started, so a second one can be started the same way but for one setting. */
    private Map<String, String> startedWith = Map.of();
    /** Stop after the inference phases: no rounds, swaps, RSS slope or backbone share ({@code --serving-only}). */
    private boolean servingOnly;
    private List<String> startedWithJvmOptions = List.of();

    ServiceBenchmark(Path jar, Path work, ThreadCounts threads, Plan plan, OrtEnvironment env, List<String> jvmOptions) {
        this.jar = jar;
        this.work = work;
        this.threads = threads;
        this.plan = plan;
        this.env = env;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    /** Stop after warm-up and the batching comparison ({@code --batching-only}). */
    private boolean batchingOnly;

    /** Measures only dynamic batching on against off ({@link BatchingComparison}), after warm-up. */
    ServiceBenchmark batchingOnly() {
        batchingOnly = true;
        servingOnly = true;
        return this;
    }

    /** Stop after warm-up and the saturation phase ({@code --saturation-only}). */
    private boolean saturationOnly;
    /** A second service jar measured beside this run's in the saturation phase ({@code --compare-jar}), or null. */
    private Path compareJar;

    /** Measures only HTTP against in-process saturation ({@link HttpSaturation}), after warm-up. */
    ServiceBenchmark saturationOnly() {
        saturationOnly = true;
        servingOnly = true;
        return this;
    }

    /** Measures a service from {@code jar} beside this run's in the saturation phase. */
    ServiceBenchmark compareJar(Path jar) {
        compareJar = jar;
        return this;
    }

    /** Stop after warm-up and the rounds-under-load comparison ({@code --rounds-only}). */
    private boolean roundsOnly;
    private int roundRepetitions = 4;

    /**
     * Measures only rounds under load with and without giving way to serving ({@link RoundYieldComparison}),
     * in {@code repetitions} alternating repetitions, after warm-up.
     */
    ServiceBenchmark roundsOnly(int repetitions) {
        roundsOnly = true;
        servingOnly = true;
        roundRepetitions = repetitions;
        return this;
    }

    /** Posts labelled samples to a service of this run. */
    interface SamplePoster {
        void post(MicrokernelClient client, int count) throws Exception;
    }

    /** Measures the inference phases only; the training, swap and memory phases are left out. */
    ServiceBenchmark servingOnly() {
        servingOnly = true;
        return this;
    }

    /** Runs every phase against the model bootstrapped from {@code artifacts}; returns its figures. */
    Map<String, Object> run(String label, Path artifacts, boolean measureRss) throws Exception {
        Map<String, Object> figures = new LinkedHashMap<>();
        Map<String, Object> latencies = new LinkedHashMap<>();
        inferenceRequests = 0;
        samplesPosted = 0;
        Path dataDir = work.resolve(label + "-data");
        deleteRecursively(dataDir);
        Path inferenceCopy = work.resolve(label + "-inference.onnx");

        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("microkernel.data-dir", dataDir.toAbsolutePath().toString());
        properties.put("microkernel.model.artifacts", artifacts.toAbsolutePath().toString());
        properties.putAll(threads.serviceProperties());
        properties.put("microkernel.training.epochs", Integer.toString(plan.epochs()));
        properties.put("microkernel.training.batch-size", Integer.toString(plan.trainBatch()));
        // Random labels give no real improvement; the gate is opened so every finite round
        // promotes and swaps, which is the path being measured.
        properties.put("microkernel.training.gate.max-regression", "1000000");
        properties.put("microkernel.training.gate.max-class-recall-drop", "1.0");
        figures.put("service_properties", relativeToWorkingDirectory(properties));
        List<String> serviceJvmOptions = new ArrayList<>(jvmOptions);
        // GC pauses land in the same tail the phases measure; the log tells them apart.
        serviceJvmOptions.add("-Xlog:gc:file=" + work.resolve(label + "-gc.log").toAbsolutePath());
        figures.put("service_jvm_options", jvmOptions);

        startedWith = new LinkedHashMap<>(properties);
        startedWithJvmOptions = List.copyOf(serviceJvmOptions);
        log(label + ": starting the service");
        try (ServiceProcess service = ServiceProcess.start(jar, serviceJvmOptions, properties,
                work.resolve(label + "-service.log"));
                MicrokernelClient client = new MicrokernelClient(service.base(), MODEL)) {
            try {
                runPhases(label, service, client, dataDir, inferenceCopy, measureRss, figures, latencies);
            } catch (Exception e) {
                throw new IllegalStateException(label + ": " + e.getMessage() + "\n--- service log tail ---\n"
                        + service.logTail(), e);
            }
        }

        if (servingOnly) {
            figures.put("latencies", latencies);
            return figures;
        }
        log(label + ": backbone share, in-process");
        BackboneShare.Figures share = BackboneShare.measure(env, artifacts, inferenceCopy, plan.trainBatch(),
                plan.shareSteps(), threads.trainingIntraOp(), work);
        figures.put("backbone_share", share.asJson());

        log(label + ": a 10-epoch round with and without the frozen-feature cache, in-process");
        Map<String, Object> cachedRound = CachedRoundSpeedup.measure(env, artifacts, Math.min(1_000, plan.samples() / 2),
                plan.trainBatch(), threads.trainingIntraOp(), work.resolve(label + "-cached-round"));
        figures.put("cached_round", cachedRound);
        figures.put("cached_round_speedup", cachedRound.get("cached_round_speedup"));
        figures.put("latencies", latencies);
        return figures;
    }

    private void runPhases(String label, ServiceProcess service, MicrokernelClient client, Path dataDir,
            Path inferenceCopy, boolean measureRss, Map<String, Object> figures, Map<String, Object> latencies)
            throws Exception {
        // Start-up: from spawning the JVM to the first successful inference.
        long readyAt = awaitReady(service, client);
        List<ModelInputs.Spec> specs = specsFromMetadata(client.getJson("/v2/models/" + MODEL));
        HttpResponse<String> first = client.send(client.inferRequest(ModelInputs.forSpecs(specs, 1, 1).oipRequest()));
        long firstInferenceAt = System.nanoTime();
        inferenceRequests++;
        if (!MicrokernelClient.isInferSuccess(first)) {
            throw new IOException("first inference answered " + first.statusCode() + ": " + first.body());
        }
        figures.put("startup_to_ready_ms", Math.round((readyAt - service.spawnedAtNanos()) / 1e6));
        figures.put("startup_to_first_inference_ms", Math.round((firstInferenceAt - service.spawnedAtNanos()) / 1e6));
        figures.put("rss_mb_idle", Latencies.round(service.rssMb()));

        Files.copy(activeInferenceModel(dataDir), inferenceCopy, StandardCopyOption.REPLACE_EXISTING);
        try (InProcessModel inProcess = new InProcessModel(env, Files.readAllBytes(inferenceCopy), threads)) {
            ModelInputs one = ModelInputs.forSession(inProcess.inputInfo(), 1, 1);
            List<String> served = specs.stream().map(ModelInputs.Spec::name).toList();
            List<String> local = one.inputs().stream().map(ModelInputs.Input::name).toList();
            if (!served.equals(local)) {
                throw new IllegalStateException("the service declares inputs " + served + ", its inference model " + local);
            }
            int classes = classCount(inProcess);
            figures.put("inputs", specs.stream().map(s -> s.name() + " " + s.type() + " " + java.util.Arrays.toString(s.shape())).toList());
            figures.put("classes", classes);
            HttpRequest infer = client.inferRequest(one.oipRequest());
            figures.put("infer_request_bytes", one.oipRequest().length());

            log(label + ": warm-up");
            for (int i = 0; i < plan.warmupRequests(); i++) {
                requireSuccess(client.send(infer));
                inProcess.run(one);
            }
            inferenceRequests += plan.warmupRequests();
            figures.put("rss_mb_after_warmup_requests", Latencies.round(service.rssMb()));
            if (roundsOnly) {
                new RoundYieldComparison(this, plan, roundRepetitions, plan.roundLoad().dividedBy(plan.blocks()))
                        .measure(label, one.oipRequest(), (to, count) -> postSamples(to, inProcess, classes, count),
                                plan.maxOpenLoopRate(), figures, latencies);
                figures.put("training_skipped", "--rounds-only: only rounds under load, giving way to serving against not");
                return;
            }
            if (batchingOnly) {
                new BatchingComparison(this, plan).measure(label, client, infer, one.oipRequest(), figures, latencies, inProcess);
                figures.put("training_skipped", "--batching-only: only dynamic batching on against off was measured");
                return;
            }

            log(label + ": concurrency 1, HTTP and in-process alternating");
            Latencies http1 = new Latencies();
            Latencies local1 = new Latencies();
            Latencies floor1 = new Latencies();
            HttpRequest live = HttpRequest.newBuilder(service.base().resolve("/v2/health/live"))
                    .timeout(Duration.ofSeconds(30)).GET().build();
            for (int block = 0; block < plan.comparisonBlocks(); block++) {
                // The same server's cheapest endpoint: what any request costs before inference starts.
                for (int i = 0; i < plan.requestsPerBlock(); i++) {
                    long start = System.nanoTime();
                    HttpResponse<String> answer = client.send(live);
                    floor1.recordNanos(System.nanoTime() - start);
                    if (answer.statusCode() != 200) {
                        throw new IOException("GET /v2/health/live answered " + answer.statusCode());
                    }
                }
                for (int i = 0; i < plan.requestsPerBlock(); i++) {
                    long start = System.nanoTime();
                    requireSuccess(client.send(infer));
                    http1.recordNanos(System.nanoTime() - start);
                }
                for (int i = 0; i < plan.requestsPerBlock(); i++) {
                    long start = System.nanoTime();
                    inProcess.run(one);
                    local1.recordNanos(System.nanoTime() - start);
                }
            }
            inferenceRequests += (long) plan.comparisonBlocks() * plan.requestsPerBlock();
            latencies.put("inprocess_concurrency1", local1.summary());
            latencies.put("http_concurrency1", http1.summary());
            latencies.put("http_floor_concurrency1", floor1.summary());
            figures.put("inference_http_over_inprocess_p50", ratio(http1.p50Ms(), local1.p50Ms()));
            figures.put("inference_http_over_inprocess_p99", ratio(http1.p99Ms(), local1.p99Ms()));
            figures.put("http_overhead_p50_ms", Latencies.round(http1.p50Ms() - local1.p50Ms()));
            figures.put("http_floor_p50_ms", Latencies.round(floor1.p50Ms()));

            batchPhase(label, service, client, inProcess, figures, latencies);

            log(label + ": throughput at saturation");
            double javaClientRps = new HttpSaturation(this, plan).measure(label, service, client, one, inProcess, compareJar,
                    figures, latencies);
            if (saturationOnly) {
                figures.put("training_skipped", "--saturation-only: only HTTP and in-process saturation were measured");
                return;
            }

            new BatchingComparison(this, plan).measure(label, client, infer, one.oipRequest(), figures, latencies, inProcess);

            double rate = Math.max(20, Math.min(plan.maxOpenLoopRate(), Math.round(javaClientRps * 0.25)));
            figures.put("open_loop_rate_rps", rate);

            log(label + ": steady open-loop load at " + rate + " req/s");
            OpenLoopLoad.RequestLog steady = OpenLoopLoad.run(client.http(), infer, rate, plan.steady(),
                    MicrokernelClient::isInferSuccess);
            inferenceRequests += steady.sent;
            Latencies steadyLatencies = steady.all();
            latencies.put("steady_open_loop", steadyLatencies.summary());
            figures.put("steady_failed_requests", steady.failed());

            if (servingOnly) {
                figures.put("training_skipped", "--serving-only: rounds, swaps and the RSS slope were not measured");
                figures.put("inference_requests_total", inferenceRequests);
                return;
            }
            int roundsStatus = client.get(client.modelPath("/rounds")).statusCode();
            if (roundsStatus != 200) {
                figures.put("training_skipped", "GET " + client.modelPath("/rounds") + " answered " + roundsStatus
                        + ": this build has no training API, so rounds, swaps between versions and the RSS slope"
                        + " over rounds were not measured");
                figures.put("inference_requests_total", inferenceRequests);
                return;
            }

            log(label + ": posting " + plan.samples() + " labelled samples");
            postSamples(client, inProcess, classes, plan.samples());

            log(label + ": one round, no other load");
            Rounds rounds = new Rounds(client);
            Rounds.Finished idleRound = rounds.runOne();
            figures.put("idle_round", roundFigures(idleRound));
            figures.put("train_samples_per_s", trainSamplesPerSecond(client, idleRound));
            figures.put("train_phase_samples_per_s", trainPhaseSamplesPerSecond(idleRound));

            swapPhase(label, client, dataDir, infer, rate, figures, latencies);
            roundLoadPhase(label, client, inProcess, classes, infer, rate, figures, latencies);

            if (measureRss) {
                rssPhase(label, service, client, inProcess, classes, dataDir, infer, rate, figures);
            }
            figures.put("inference_requests_total", inferenceRequests);
        }
    }

    /** Rows per request of the batch phase, REST beside gRPC. */
    static final int BATCH = 32;

    /**
     * Batches of {@value #BATCH} at concurrency 1, in alternating blocks: REST with JSON, gRPC with
     * raw contents (as tritonclient.grpc sends them) and the in-process session, on the same rows.
     */
    private void batchPhase(String label, ServiceProcess service, MicrokernelClient client, InProcessModel inProcess,
            Map<String, Object> figures, Map<String, Object> latencies) throws Exception {
        log(label + ": batch " + BATCH + ", REST, gRPC and in-process alternating");
        ModelInputs rows = ModelInputs.forSession(inProcess.inputInfo(), BATCH, BATCH);
        HttpRequest rest = client.inferRequest(rows.oipRequest());
        int perBlock = Math.max(20, plan.requestsPerBlock() / 5);
        Latencies http = new Latencies();
        Latencies grpc = new Latencies();
        Latencies local = new Latencies();
        int grpcBytes;
        try (GrpcInferenceClient grpcClient = new GrpcInferenceClient(service.base().getHost(), service.grpcPort(), MODEL)) {
            io.microkernel.api.grpc.proto.ModelInferRequest raw = grpcClient.rawRequest(rows);
            grpcBytes = raw.getSerializedSize();
            for (int i = 0; i < perBlock; i++) {
                requireSuccess(client.send(rest));
                grpcClient.infer(raw);
                inProcess.run(rows);
            }
            for (int block = 0; block < plan.comparisonBlocks(); block++) {
                timeBlock(perBlock, http, () -> requireSuccess(client.send(rest)));
                timeBlock(perBlock, grpc, () -> grpcClient.infer(raw));
                timeBlock(perBlock, local, () -> inProcess.run(rows));
            }
        }
        inferenceRequests += 2L * perBlock * (plan.comparisonBlocks() + 1);
        latencies.put("inprocess_batch32", local.summary());
        latencies.put("http_batch32", http.summary());
        latencies.put("grpc_batch32", grpc.summary());
        figures.put("inference_grpc_over_inprocess_p50", ratio(grpc.p50Ms(), local.p50Ms()));
        figures.put("inference_grpc_over_inprocess_p99", ratio(grpc.p99Ms(), local.p99Ms()));
        figures.put("inference_http_batch32_over_inprocess_p50", ratio(http.p50Ms(), local.p50Ms()));
        figures.put("inference_grpc_over_http_batch32_p50", ratio(grpc.p50Ms(), http.p50Ms()));
        figures.put("batch32_request_bytes", Map.of("http_json", rows.oipRequest().length(), "grpc_raw", grpcBytes));
    }

    /**
     * Starts a second service like this run's, on its own data dir, with {@code overrides} on top of
     * its properties.
     */
    ServiceProcess startLike(String label, Map<String, String> overrides) throws IOException {
        return startLike(label, overrides, jar);
    }

    /** Like {@link #startLike(String, Map)}, from another service jar. */
    ServiceProcess startLike(String label, Map<String, String> overrides, Path serviceJar) throws IOException {
        Map<String, String> properties = new LinkedHashMap<>(startedWith);
        Path dataDir = work.resolve(label + "-data");
        deleteRecursively(dataDir);
        properties.put("microkernel.data-dir", dataDir.toAbsolutePath().toString());
        properties.putAll(overrides);
        List<String> options = startedWithJvmOptions.stream().filter(o -> !o.startsWith("-Xlog:gc")).toList();
        return ServiceProcess.start(serviceJar, options, properties, work.resolve(label + "-service.log"));
    }

    static long awaitReadyService(ServiceProcess service, MicrokernelClient client) throws Exception {
        return awaitReady(service, client);
    }

    static void timeBlock(int requests, Latencies into, Call call) throws Exception {
        for (int i = 0; i < requests; i++) {
            long start = System.nanoTime();
            call.run();
            into.recordNanos(System.nanoTime() - start);
        }
    }

    /**
     * Swaps under one continuous open-loop load, in blocks that alternate with quiet blocks of the
     * same load (quiet, swaps, quiet, swaps, ..., quiet), so the two distributions compared share
     * the same minutes of a noisy machine.
     */
    private void swapPhase(String label, MicrokernelClient client, Path dataDir, HttpRequest infer, double rate,
            Map<String, Object> figures, Map<String, Object> latencies) throws Exception {
        List<Integer> versions = versionsOnDisk(dataDir);
        if (versions.size() < 2) {
            figures.put("swap_skipped", "only versions " + versions + " exist: the round did not promote a second one");
            return;
        }
        int older = versions.get(versions.size() - 2);
        int newer = versions.get(versions.size() - 1);
        log(label + ": " + plan.swaps() + " swaps between versions " + older + " and " + newer
                + " under load, in " + plan.blocks() + " blocks between quiet blocks");
        AtomicBoolean stop = new AtomicBoolean();
        Future<OpenLoopLoad.RequestLog> load = background(() ->
                OpenLoopLoad.run(client.http(), infer, rate, Duration.ofMinutes(30), stop, MicrokernelClient::isInferSuccess));
        List<long[]> quiet = new ArrayList<>();
        List<long[]> windows = new ArrayList<>();
        Latencies activateCalls = new Latencies();
        int activateFailures = 0;
        List<String> activateErrors = new ArrayList<>();
        int swapsPerBlock = (plan.swaps() + plan.blocks() - 1) / plan.blocks();
        int swapped = 0;
        for (int block = 0; block < plan.blocks(); block++) {
            quiet.add(quietBlock());
            for (int i = 0; i < swapsPerBlock && swapped < plan.swaps(); i++, swapped++) {
                int target = swapped % 2 == 0 ? older : newer;
                long start = System.nanoTime();
                HttpResponse<String> answer = client.post(client.modelPath("/versions/" + target + ":activate"), "");
                long end = System.nanoTime();
                activateCalls.recordNanos(end - start);
                // The old model closes after it drains, which may be after the call returns.
                windows.add(new long[] {start, end + plan.swapTail().toNanos()});
                if (answer.statusCode() / 100 != 2) {
                    activateFailures++;
                    if (activateErrors.size() < 3) {
                        activateErrors.add(answer.statusCode() + " " + OpenLoopLoad.abbreviate(answer.body()));
                    }
                }
                pause(plan.swapGap());
            }
        }
        quiet.add(quietBlock());
        stop.set(true);
        OpenLoopLoad.RequestLog log = load.get();
        inferenceRequests += log.sent;
        Latencies inWindows = log.overlapping(windows, true);
        Latencies steady = log.within(quiet);
        latencies.put("during_swaps", inWindows.summary());
        latencies.put("quiet_between_swap_blocks", steady.summary());
        latencies.put("activate_call", activateCalls.summary());
        figures.put("swaps", swapped);
        figures.put("swap_requests", log.sent);
        figures.put("swap_failed_requests", log.failed());
        figures.put("swap_failures_seen", log.firstFailures);
        figures.put("swap_activate_failures", activateFailures);
        figures.put("swap_activate_errors", activateErrors);
        figures.put("swap_p99_over_steady_p99", ratio(inWindows.p99Ms(), steady.p99Ms()));
        figures.put("swap_p50_over_steady_p50", ratio(inWindows.p50Ms(), steady.p50Ms()));
        figures.put("swap_slowest_request_per_window_ms", log.slowestPerWindow(windows));
        figures.put("quiet_slowest_request_per_block_ms", log.slowestPerWindow(quiet));
        figures.put("swap_time_p50_ms", Latencies.round(activateCalls.p50Ms()));
        figures.put("swap_time_max_ms", Latencies.round(activateCalls.maxMs()));
        figures.put("swap_metrics", metricLines(client, "swap"));
    }

    /**
     * Rounds back to back under one continuous open-loop load, in blocks that alternate with quiet
     * blocks (quiet, rounds, quiet, rounds, ..., quiet).
     */
    private void roundLoadPhase(String label, MicrokernelClient client, InProcessModel inProcess, int classes,
            HttpRequest infer, double rate, Map<String, Object> figures, Map<String, Object> latencies)
            throws Exception {
        log(label + ": rounds back to back for " + plan.roundLoad().toSeconds() + " s under load, in "
                + plan.blocks() + " blocks between quiet blocks");
        AtomicBoolean stop = new AtomicBoolean();
        Future<OpenLoopLoad.RequestLog> load = background(() -> OpenLoopLoad.run(client.http(), infer, rate,
                Duration.ofMinutes(30), stop, MicrokernelClient::isInferSuccess));
        Rounds rounds = new Rounds(client);
        List<long[]> quiet = new ArrayList<>();
        List<long[]> windows = new ArrayList<>();
        List<String> outcomes = new ArrayList<>();
        long perBlock = plan.roundLoad().toNanos() / plan.blocks();
        for (int block = 0; block < plan.blocks(); block++) {
            quiet.add(quietBlock());
            long endAt = System.nanoTime() + perBlock;
            do {
                postSamples(client, inProcess, classes, NEW_SAMPLES_PER_ROUND);
                Rounds.Finished round = rounds.runOne();
                windows.add(new long[] {round.startedNanos(), round.finishedNanos()});
                outcomes.add(round.state());
            } while (System.nanoTime() < endAt);
        }
        quiet.add(quietBlock());
        stop.set(true);
        OpenLoopLoad.RequestLog log = load.get();
        inferenceRequests += log.sent;
        Latencies during = log.overlapping(windows, true);
        Latencies idle = log.within(quiet);
        latencies.put("during_rounds", during.summary());
        latencies.put("quiet_between_round_blocks", idle.summary());
        figures.put("rounds_under_load", outcomes.size());
        figures.put("rounds_under_load_promoted", outcomes.stream().filter("promoted"::equals).count());
        figures.put("round_conflicts_after_finish", rounds.conflictsAfterFinish());
        figures.put("round_load_failed_requests", log.failed());
        figures.put("round_slowest_request_per_round_ms", log.slowestPerWindow(windows));
        figures.put("quiet_slowest_request_per_round_block_ms", log.slowestPerWindow(quiet));
        figures.put("infer_p99_during_round_over_idle", ratio(during.p99Ms(), idle.p99Ms()));
        figures.put("infer_p50_during_round_over_idle", ratio(during.p50Ms(), idle.p50Ms()));
    }

    /** A block of plain load with nothing else going on; returns its time window. */
    private long[] quietBlock() {
        long start = System.nanoTime();
        pause(plan.quietBlock());
        return new long[] {start, System.nanoTime()};
    }

    private void rssPhase(String label, ServiceProcess service, MicrokernelClient client, InProcessModel inProcess,
            int classes, Path dataDir, HttpRequest infer, double rate, Map<String, Object> figures) throws Exception {
        List<double[]> points = new ArrayList<>();
        List<double[]> pointsAfterGc = new ArrayList<>();
        Map<String, Object> rss = new LinkedHashMap<>();
        rssPoint("after_warmup", service, rss, points, pointsAfterGc);

        double fastRate = Math.max(rate, Math.min(500, rate * 2));
        int failedRequests = 0;
        for (int segment = 1; segment <= RSS_REQUEST_SEGMENTS; segment++) {
            log(label + ": " + plan.rssRequests() + " requests at " + fastRate + " req/s for the RSS slope ("
                    + segment + " of " + RSS_REQUEST_SEGMENTS + ")");
            OpenLoopLoad.RequestLog requests = OpenLoopLoad.run(client.http(), infer, fastRate,
                    Duration.ofNanos((long) (plan.rssRequests() / fastRate * 1e9)), MicrokernelClient::isInferSuccess);
            inferenceRequests += requests.sent;
            failedRequests += requests.failed();
            rssPoint("after_requests_" + segment, service, rss, points, pointsAfterGc);
        }
        rss.put("requests_failed", failedRequests);
        // The request-only points: warm-up, then after each segment.
        List<double[]> requestPoints = List.copyOf(pointsAfterGc);
        List<double[]> requestPointsRaw = List.copyOf(points);

        log(label + ": " + plan.rssRounds() + " rounds with swaps under load for the RSS slope");
        AtomicBoolean stop = new AtomicBoolean();
        Future<OpenLoopLoad.RequestLog> load = background(() -> OpenLoopLoad.run(client.http(), infer, rate,
                Duration.ofMinutes(30), stop, MicrokernelClient::isInferSuccess));
        Rounds rounds = new Rounds(client);
        int promoted = 0;
        int activations = 0;
        for (int i = 0; i < plan.rssRounds(); i++) {
            postSamples(client, inProcess, classes, NEW_SAMPLES_PER_ROUND);
            Rounds.Finished round = rounds.runOne();
            if (round.promoted()) {
                promoted++;
            } else {
                // Every round ends with a swap, promoted or not, so swaps are exercised as often as rounds.
                List<Integer> versions = versionsOnDisk(dataDir);
                int active = activeVersion(dataDir);
                int other = versions.stream().filter(v -> v != active).reduce((a, b) -> b).orElse(active);
                client.postExpecting(client.modelPath("/versions/" + other + ":activate"), "", 200, 202, 204);
                activations++;
            }
        }
        stop.set(true);
        OpenLoopLoad.RequestLog background = load.get();
        inferenceRequests += background.sent;
        rss.put("rounds", plan.rssRounds());
        rss.put("rounds_promoted", promoted);
        rss.put("round_conflicts_after_finish", rounds.conflictsAfterFinish());
        rss.put("explicit_activations", activations);
        rss.put("background_failed_requests", background.failed());
        rssPoint("after_rounds", service, rss, points, pointsAfterGc);

        rss.put("slope_mb_per_10k_requests", Latencies.round(slope(requestPointsRaw) * 10_000));
        rss.put("slope_after_full_gc_mb_per_10k_requests", Latencies.round(slope(requestPoints) * 10_000));
        double beforeRounds = requestPoints.get(requestPoints.size() - 1)[1];
        double afterRounds = pointsAfterGc.get(pointsAfterGc.size() - 1)[1];
        rss.put("rounds_growth_mb", Latencies.round(afterRounds - beforeRounds));
        rss.put("rounds_growth_mb_per_round", Latencies.round((afterRounds - beforeRounds) / Math.max(1, plan.rssRounds())));
        figures.put("rss", rss);
        // The headline slope is fitted to the readings after a full GC, over the request segments: the
        // JVM heap grows and shrinks on its own schedule, and only memory that survives a collection
        // can be a leak. Growth over the rounds is reported per round beside it.
        figures.put("rss_growth_mb_per_10k_requests", Latencies.round(slope(requestPoints) * 10_000));
        figures.put("rss_growth_mb_per_round", rss.get("rounds_growth_mb_per_round"));
    }

    private void rssPoint(String name, ServiceProcess service, Map<String, Object> rss, List<double[]> points,
            List<double[]> pointsAfterGc) throws Exception {
        double raw = service.rssMb();
        double afterGc = service.rssMbAfterFullGc();
        points.add(new double[] {inferenceRequests, raw});
        pointsAfterGc.add(new double[] {inferenceRequests, Double.isNaN(afterGc) ? raw : afterGc});
        rss.put(name + "_requests", inferenceRequests);
        rss.put(name + "_mb", Latencies.round(raw));
        rss.put(name + "_after_full_gc_mb", Double.isNaN(afterGc) ? null : Latencies.round(afterGc));
    }

    /** The properties as results.json records them: paths relative to the folder the run started in. */
    private static Map<String, String> relativeToWorkingDirectory(Map<String, String> properties) {
        Path here = Path.of("").toAbsolutePath();
        Map<String, String> relative = new LinkedHashMap<>();
        properties.forEach((key, value) -> relative.put(key,
                value.startsWith(here + "/") ? here.relativize(Path.of(value)).toString() : value));
        return relative;
    }

    /** Least-squares slope of y over x. */
    static double slope(List<double[]> points) {
        double meanX = points.stream().mapToDouble(p -> p[0]).average().orElse(0);
        double meanY = points.stream().mapToDouble(p -> p[1]).average().orElse(0);
        double numerator = 0;
        double denominator = 0;
        for (double[] p : points) {
            numerator += (p[0] - meanX) * (p[1] - meanY);
            denominator += (p[0] - meanX) * (p[0] - meanX);
        }
        return denominator == 0 ? 0 : numerator / denominator;
    }

    private Map<String, Object> roundFigures(Rounds.Finished round) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", round.id());
        json.put("state", round.state());
        json.put("seconds_seen_by_client", Latencies.round(round.seconds()));
        Duration server = round.serverDuration();
        json.put("seconds_by_round_record", server == null ? null : Latencies.round(server.toNanos() / 1e9));
        Duration training = round.trainingPhase();
        json.put("training_phase_seconds", training == null ? null : Latencies.round(training.toNanos() / 1e9));
        json.put("trained_samples", round.trainedSamples());
        Map<String, Object> phases = new LinkedHashMap<>();
        round.phaseFirstSeenNanos().forEach((phase, nanos) ->
                phases.put(phase, Latencies.round((nanos - round.startedNanos()) / 1e6)));
        json.put("phase_first_seen_ms_after_start", phases);
        json.put("record", round.record());
        return json;
    }

    /**
     * Samples pushed through train steps per second of a whole round (training, evaluation of both
     * versions, export, publish and swap), timed by the round's own record when it carries start
     * and finish, else by the client.
     */
    private double trainSamplesPerSecond(MicrokernelClient client, Rounds.Finished round) throws Exception {
        long trained = round.trainedSamples();
        if (trained <= 0) {
            JsonNode buffer = client.getJson(client.modelPath("/samples"));
            long trainSize = firstNumber(buffer, "train", "train_size", "trainSize", "train_samples");
            if (trainSize <= 0) {
                throw new IOException("neither the round record nor the sample statistics say how much was trained: "
                        + round.record() + " " + buffer);
            }
            trained = trainSize * plan.epochs();
        }
        Duration server = round.serverDuration();
        double seconds = server != null && !server.isZero() ? server.toNanos() / 1e9 : round.seconds();
        return Latencies.round(trained / seconds);
    }

    /** The same samples over the training phase alone (first seen training to first seen evaluating). */
    private static Double trainPhaseSamplesPerSecond(Rounds.Finished round) {
        Duration training = round.trainingPhase();
        long trained = round.trainedSamples();
        return training == null || trained <= 0 || training.isZero() ? null
                : Latencies.round(trained / (training.toNanos() / 1e9));
    }

    static long firstNumber(JsonNode node, String... names) {
        for (String name : names) {
            JsonNode value = node.get(name);
            if (value != null && value.isNumber()) {
                return value.asLong();
            }
        }
        return -1;
    }

    private void postSamples(MicrokernelClient client, InProcessModel inProcess, int classes, int count) throws Exception {
        Random labels = new Random(samplesPosted);
        for (int offset = 0; offset < count; offset += plan.samplesPerRequest()) {
            int batch = Math.min(plan.samplesPerRequest(), count - offset);
            ModelInputs rows = ModelInputs.forSession(inProcess.inputInfo(), batch, 1_000L + samplesPosted);
            int[] classOf = new int[batch];
            for (int i = 0; i < batch; i++) {
                classOf[i] = labels.nextInt(classes);
            }
            client.postExpecting(client.modelPath("/samples"), rows.samplesRequest(classOf), 202, 200);
            samplesPosted += batch;
        }
    }

    record Saturation(long completed, double seconds, Latencies latencies) {
        double perSecond() {
            return completed / seconds;
        }
    }

    interface Call {
        void run() throws Exception;
    }

    /** A closed loop: {@code workers} threads calling back to back for the saturation period. */
    Saturation saturate(int workers, Call call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            long start = System.nanoTime();
            long end = start + plan.saturation().toNanos();
            List<Future<Latencies>> results = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                results.add(pool.submit(() -> {
                    Latencies mine = new Latencies();
                    long now;
                    while ((now = System.nanoTime()) < end) {
                        call.run();
                        mine.recordNanos(System.nanoTime() - now);
                    }
                    return mine;
                }));
            }
            Latencies all = new Latencies();
            for (Future<Latencies> result : results) {
                all.add(result.get());
            }
            return new Saturation(all.count(), (System.nanoTime() - start) / 1e9, all);
        } finally {
            pool.shutdownNow();
        }
    }

    private static <T> Future<T> background(java.util.concurrent.Callable<T> task) {
        return background(task, "bench-open-loop");
    }

    /** Runs {@code task} on a daemon thread of its own, named {@code name}. */
    static <T> Future<T> background(java.util.concurrent.Callable<T> task, String name) {
        CompletableFuture<T> future = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                future.complete(task.call());
            } catch (Throwable e) {
                future.completeExceptionally(e);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return future;
    }

    static long awaitReady(ServiceProcess service, MicrokernelClient client) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            if (!service.isAlive()) {
                throw new IOException("the service exited during start-up");
            }
            try {
                if (client.get("/v2/health/ready").statusCode() == 200) {
                    return System.nanoTime();
                }
            } catch (IOException notListeningYet) {
                // Connection refused until Quarkus opens the port.
            }
            LockSupport.parkNanos(5_000_000L);
        }
        throw new IOException("the service was not ready within 3 minutes");
    }

    static List<ModelInputs.Spec> specsFromMetadata(JsonNode metadata) {
        List<ModelInputs.Spec> specs = new ArrayList<>();
        for (JsonNode input : metadata.path("inputs")) {
            JsonNode shapeNode = input.path("shape");
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong();
            }
            String datatype = input.path("datatype").asText();
            OnnxJavaType type = switch (datatype) {
                case "FP32" -> OnnxJavaType.FLOAT;
                case "INT64" -> OnnxJavaType.INT64;
                default -> throw new IllegalArgumentException("the benchmark feeds FP32 or INT64 inputs, found " + datatype);
            };
            specs.add(new ModelInputs.Spec(input.path("name").asText(), type, shape));
        }
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("the model metadata lists no inputs: " + metadata);
        }
        return specs;
    }

    private static List<String> metricLines(MicrokernelClient client, String containing) {
        try {
            HttpResponse<String> metrics = client.get("/q/metrics");
            return metrics.body().lines()
                    .filter(line -> !line.startsWith("#") && line.toLowerCase().contains(containing))
                    .limit(40)
                    .toList();
        } catch (IOException | InterruptedException e) {
            return List.of("(metrics unavailable: " + e.getMessage() + ")");
        }
    }

    private static int classCount(InProcessModel model) throws OrtException {
        ai.onnxruntime.TensorInfo output = (ai.onnxruntime.TensorInfo) model.outputInfo().values().iterator().next().getInfo();
        long[] shape = output.getShape();
        return (int) Math.max(1, shape[shape.length - 1]);
    }

    static Path modelFolder(Path dataDir) {
        return dataDir.resolve("models").resolve(MODEL);
    }

    static int activeVersion(Path dataDir) throws IOException {
        return Integer.parseInt(Files.readString(modelFolder(dataDir).resolve("ACTIVE")).trim());
    }

    static List<Integer> versionsOnDisk(Path dataDir) throws IOException {
        try (Stream<Path> entries = Files.list(modelFolder(dataDir).resolve("versions"))) {
            return entries.map(p -> p.getFileName().toString())
                    .filter(name -> name.matches("\\d+"))
                    .map(Integer::parseInt)
                    .sorted()
                    .toList();
        }
    }

    private static Path activeInferenceModel(Path dataDir) throws IOException {
        Path model = modelFolder(dataDir).resolve("versions").resolve(Integer.toString(activeVersion(dataDir)))
                .resolve("inference.onnx");
        if (!Files.isRegularFile(model)) {
            throw new IOException("no inference model at " + model);
        }
        return model;
    }

    static void requireSuccess(HttpResponse<String> response) throws IOException {
        if (!MicrokernelClient.isInferSuccess(response)) {
            throw new IOException("inference answered " + response.statusCode() + ": "
                    + OpenLoopLoad.abbreviate(response.body()));
        }
    }

    static double ratio(double numerator, double denominator) {
        return Latencies.round(numerator / denominator);
    }

    private static void pause(Duration duration) {
        // Paces the phase (gaps between swaps); nothing waits on a condition here.
        LockSupport.parkNanos(duration.toNanos());
    }

    static void log(String message) {
        System.out.println("[bench] " + message);
    }

    static void deleteRecursively(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}

package io.microkernel.bench;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Dynamic batching on against off: a second service, started like the run's own but with
 * {@code microkernel.serving.batching.enabled=true}, and the run's own (batching off, the default),
 * measured in alternating blocks on the same batch-1 request: throughput at saturation with the
 * plan's HTTP clients, and p50 at concurrency 1, where batching must cost nothing. The batching
 * service's own histogram of requests per run ({@code microkernel_inference_batch_requests_bucket})
 * says how large the gathered batches were during the saturated blocks.
 */
final class BatchingComparison {

    private static final int BLOCKS = 3;
    /** Length of one in-process block of the batch scaling figure. */
    private static final long SCALING_BLOCK_NANOS = 1_000_000_000L;

    private final ServiceBenchmark bench;
    private final ServiceBenchmark.Plan plan;

    BatchingComparison(ServiceBenchmark bench, ServiceBenchmark.Plan plan) {
        this.bench = bench;
        this.plan = plan;
    }

    void measure(String label, MicrokernelClient off, HttpRequest offInfer, String body, Map<String, Object> figures,
            Map<String, Object> latencies, InProcessModel inProcess) throws Exception {
        ServiceBenchmark.log(label + ": dynamic batching on against off, alternating");
        Map<String, String> batching = Map.of("microkernel.serving.batching.enabled", "true");
        try (ServiceProcess service = bench.startLike(label + "-batching", batching);
                MicrokernelClient on = new MicrokernelClient(service.base(), off.model())) {
            ServiceBenchmark.awaitReadyService(service, on);
            HttpRequest onInfer = on.inferRequest(body);
            for (int i = 0; i < plan.warmupRequests(); i++) {
                require(on.send(onInfer));
            }
            // One discarded saturation block each: the batching service has just started, while the
            // run's own has answered every earlier phase, and a first saturated block mostly measures
            // the JIT compiler (HttpSaturation found it at less than half the warm throughput).
            bench.saturate(plan.httpSaturationClients(), () -> require(on.send(onInfer)));
            bench.saturate(plan.httpSaturationClients(), () -> require(off.send(offInfer)));
            Latencies offSaturated = new Latencies();
            Latencies onSaturated = new Latencies();
            double offSeconds = 0;
            double onSeconds = 0;
            double[] runsBefore = batchMeter(on);
            Map<Double, Double> bucketsBefore = batchBuckets(on);
            for (int block = 0; block < BLOCKS; block++) {
                ServiceBenchmark.Saturation a = bench.saturate(plan.httpSaturationClients(), () -> require(off.send(offInfer)));
                ServiceBenchmark.Saturation b = bench.saturate(plan.httpSaturationClients(), () -> require(on.send(onInfer)));
                offSaturated.add(a.latencies());
                onSaturated.add(b.latencies());
                offSeconds += a.seconds();
                onSeconds += b.seconds();
            }
            double[] runsAfter = batchMeter(on);
            Map<Double, Double> bucketsAfter = batchBuckets(on);
            Latencies offOne = new Latencies();
            Latencies onOne = new Latencies();
            int perBlock = Math.max(50, plan.requestsPerBlock() / 2);
            for (int block = 0; block < Math.max(3, plan.comparisonBlocks() / 2); block++) {
                ServiceBenchmark.timeBlock(perBlock, offOne, () -> require(off.send(offInfer)));
                ServiceBenchmark.timeBlock(perBlock, onOne, () -> require(on.send(onInfer)));
            }
            double offRps = offSaturated.count() / offSeconds;
            double onRps = onSaturated.count() / onSeconds;
            figures.put("batching_throughput_gain", ServiceBenchmark.ratio(onRps, offRps));
            figures.put("batching_p50_concurrency1_on_over_off", ServiceBenchmark.ratio(onOne.p50Ms(), offOne.p50Ms()));
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("saturation_rps_off", Math.round(offRps));
            detail.put("saturation_rps_on", Math.round(onRps));
            detail.put("clients", plan.httpSaturationClients());
            detail.put("requests_per_run_on_saturated", perRun(runsAfter[0] - runsBefore[0], runsAfter[1] - runsBefore[1]));
            detail.put("runs_by_requests_on_saturated", runsByRequests(bucketsBefore, bucketsAfter));
            double[] total = batchMeter(on);
            detail.put("requests_per_run_on", perRun(total[0], total[1]));
            detail.putAll(batchScaling(inProcess, plan.httpSaturationClients()));
            detail.put("service_properties", batching);
            figures.put("batching", detail);
            latencies.put("batching_off_saturation", offSaturated.summary());
            latencies.put("batching_on_saturation", onSaturated.summary());
            latencies.put("batching_off_concurrency1", offOne.summary());
            latencies.put("batching_on_concurrency1", onOne.summary());
        }
    }

    /**
     * The most batching can gain where the run is all the cost: rows per second of one in-process
     * thread at batch {@code rows} over batch 1, in alternating one-second blocks.
     */
    private static Map<String, Object> batchScaling(InProcessModel inProcess, int rows) throws Exception {
        ModelInputs one = ModelInputs.forSession(inProcess.inputInfo(), 1, 1);
        ModelInputs many = ModelInputs.forSession(inProcess.inputInfo(), rows, 1);
        double oneRows = 0;
        double manyRows = 0;
        double oneSeconds = 0;
        double manySeconds = 0;
        for (int block = 0; block < BLOCKS; block++) {
            long[] a = runFor(inProcess, one);
            long[] b = runFor(inProcess, many);
            oneRows += a[0];
            oneSeconds += a[1] / 1e9;
            manyRows += b[0] * (double) rows;
            manySeconds += b[1] / 1e9;
        }
        Map<String, Object> scaling = new LinkedHashMap<>();
        scaling.put("inprocess_rows_per_s_batch1", Math.round(oneRows / oneSeconds));
        scaling.put("inprocess_rows_per_s_batch" + rows, Math.round(manyRows / manySeconds));
        scaling.put("inprocess_batch" + rows + "_over_batch1_rows_per_s", ServiceBenchmark.ratio(manyRows / manySeconds, oneRows / oneSeconds));
        return scaling;
    }

    /** Runs for about a second: {runs, nanoseconds}. */
    private static long[] runFor(InProcessModel inProcess, ModelInputs inputs) throws Exception {
        long start = System.nanoTime();
        long runs = 0;
        long elapsed;
        do {
            inProcess.run(inputs);
            runs++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < SCALING_BLOCK_NANOS);
        return new long[] {runs, elapsed};
    }

    private static Double perRun(double requests, double runs) {
        return Double.isNaN(requests) || Double.isNaN(runs) || runs == 0 ? null : Latencies.round(requests / runs);
    }

    /** The batching service's own meter: {requests answered, runs} so far (warm-up and every phase included). */
    private static double[] batchMeter(MicrokernelClient client) throws IOException, InterruptedException {
        HttpResponse<String> metrics = client.get("/q/metrics");
        double sum = Double.NaN;
        double count = Double.NaN;
        for (String line : metrics.body().lines().toList()) {
            if (line.startsWith("microkernel_inference_batch_requests_sum")) {
                sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            } else if (line.startsWith("microkernel_inference_batch_requests_count")) {
                count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return new double[] {sum, count};
    }

    /** The batching service's cumulative histogram of requests per run so far: upper bound to runs at most that large. */
    private static Map<Double, Double> batchBuckets(MicrokernelClient client) throws IOException, InterruptedException {
        Map<Double, Double> buckets = new java.util.TreeMap<>();
        for (String line : client.get("/q/metrics").body().lines().toList()) {
            if (line.startsWith("microkernel_inference_batch_requests_bucket{") && !line.contains("le=\"+Inf\"")) {
                int at = line.indexOf("le=\"") + 4;
                double le = Double.parseDouble(line.substring(at, line.indexOf('"', at)));
                buckets.put(le, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return buckets;
    }

    /**
     * Runs between two readings of {@link #batchBuckets}, by how many requests each answered: the key
     * is a bucket's upper bound, the value the runs above the previous bound and at most this one.
     */
    private static Map<String, Long> runsByRequests(Map<Double, Double> before, Map<Double, Double> after) {
        Map<String, Long> runs = new LinkedHashMap<>();
        double below = 0;
        for (Map.Entry<Double, Double> bucket : after.entrySet()) {
            double upTo = bucket.getValue() - before.getOrDefault(bucket.getKey(), 0.0);
            long inBucket = Math.round(upTo - below);
            if (inBucket > 0) {
                runs.put(Long.toString(Math.round(bucket.getKey())), inBucket);
            }
            below = upTo;
        }
        return runs;
    }

    private static void require(HttpResponse<String> response) throws IOException {
        if (!MicrokernelClient.isInferSuccess(response)) {
            throw new IOException("inference answered " + response.statusCode() + ": " + OpenLoopLoad.abbreviate(response.body()));
        }
    }
}

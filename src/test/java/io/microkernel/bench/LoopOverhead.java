package io.microkernel.bench;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What closing the loop costs inference: services on the same artifact set, one with the
 * prediction log and drift watch off, one with the log on, one with the drift watch on, answer the
 * same request in alternating blocks at concurrency 1 (each block round starts with the next
 * service, so none always follows the same one). The figures are ratios of p50s taken side by
 * side: {@code prediction_log_overhead_p50} (log on / off) and {@code drift_watch_overhead_p50}
 * (drift on / off).
 *
 * <p>With a baseline jar (another build of the service), two more services from it (log off, log
 * on) answer in the same rounds, and {@code prediction_log_overhead_p50_baseline} is that build's
 * ratio under the very same conditions.
 *
 * <p>Run alone (without the rest of {@code bench/run}) with its {@link #main}:
 * {@code java -cp <test classpath> io.microkernel.bench.LoopOverhead [--jar J] [--baseline-jar B]
 * [--quick] [--blocks N] [--per-block N] [--work DIR] [--default-model DIR]}.
 */
final class LoopOverhead {

    private record Variant(String name, Path jar, Map<String, String> properties) {
    }

    private LoopOverhead() {
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            Path jar = Path.of("target", "onnx-microkernel-0.1.0-SNAPSHOT-runner.jar");
            Optional<Path> baseline = Optional.empty();
            Path work = Path.of("bench", "work");
            Path model = Path.of("models", "default");
            int warmup = 300;
            int blocks = 20;
            int perBlock = 200;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--jar" -> jar = Path.of(args[++i]);
                    case "--baseline-jar" -> baseline = Optional.of(Path.of(args[++i]));
                    case "--work" -> work = Path.of(args[++i]);
                    case "--default-model" -> model = Path.of(args[++i]);
                    case "--blocks" -> blocks = Integer.parseInt(args[++i]);
                    case "--per-block" -> perBlock = Integer.parseInt(args[++i]);
                    case "--quick" -> {
                        warmup = 50;
                        blocks = 3;
                        perBlock = 50;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + "; expected --jar <path>,"
                            + " --baseline-jar <path>, --work <folder>, --default-model <folder>, --blocks N,"
                            + " --per-block N, --quick");
                }
            }
            Files.createDirectories(work);
            Map<String, Object> figures = measure(jar, baseline, work, model, BenchmarkMain.SERVICE_JVM_OPTIONS, warmup,
                    blocks, perBlock);
            Path out = work.resolve("loop-overhead.json");
            ResultsReport.writeJson(figures, out);
            figures.forEach((key, value) -> {
                if (!(value instanceof Map)) {
                    System.out.println(key + " = " + value);
                }
            });
            ServiceBenchmark.log("wrote " + out);
        } catch (Exception e) {
            System.err.println("[bench] failed: " + e.getMessage());
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    static Map<String, Object> measure(Path jar, Path work, Path artifacts, List<String> jvmOptions, int warmup,
            int blocks, int perBlock) throws Exception {
        return measure(jar, Optional.empty(), work, artifacts, jvmOptions, warmup, blocks, perBlock);
    }

    static Map<String, Object> measure(Path jar, Optional<Path> baselineJar, Path work, Path artifacts,
            List<String> jvmOptions, int warmup, int blocks, int perBlock) throws Exception {
        List<Variant> variants = new ArrayList<>();
        variants.add(new Variant("off", jar, Map.of()));
        variants.add(new Variant("prediction_log", jar, Map.of("microkernel.feedback.enabled", "true")));
        variants.add(new Variant("drift_watch", jar, Map.of("microkernel.drift.enabled", "true")));
        baselineJar.ifPresent(b -> {
            variants.add(new Variant("off_baseline", b, Map.of()));
            variants.add(new Variant("prediction_log_baseline", b, Map.of("microkernel.feedback.enabled", "true")));
        });
        Map<String, ServiceProcess> services = new LinkedHashMap<>();
        Map<String, MicrokernelClient> clients = new LinkedHashMap<>();
        Map<String, Latencies> latencies = new LinkedHashMap<>();
        Map<String, List<Double>> blockP50s = new LinkedHashMap<>();
        try {
            for (Variant variant : variants) {
                Map<String, String> properties = new LinkedHashMap<>(variant.properties());
                Path dataDir = work.resolve("loop-" + variant.name());
                ServiceBenchmark.deleteRecursively(dataDir);
                properties.put("microkernel.data-dir", dataDir.toAbsolutePath().toString());
                properties.put("microkernel.model.artifacts", artifacts.toAbsolutePath().toString());
                ServiceProcess service = ServiceProcess.start(variant.jar(), jvmOptions, properties,
                        work.resolve("loop-" + variant.name() + ".log"));
                services.put(variant.name(), service);
                MicrokernelClient client = new MicrokernelClient(service.base(), ServiceBenchmark.MODEL);
                clients.put(variant.name(), client);
                ServiceBenchmark.awaitReady(service, client);
                latencies.put(variant.name(), new Latencies());
                blockP50s.put(variant.name(), new ArrayList<>());
            }
            MicrokernelClient first = clients.get("off");
            List<ModelInputs.Spec> specs = ServiceBenchmark.specsFromMetadata(first.getJson("/v2/models/"
                    + ServiceBenchmark.MODEL));
            String body = ModelInputs.forSpecs(specs, 1, 1).oipRequest();
            ServiceBenchmark.log("loop overhead: warm-up");
            for (MicrokernelClient client : clients.values()) {
                HttpRequest infer = client.inferRequest(body);
                for (int i = 0; i < warmup; i++) {
                    ServiceBenchmark.requireSuccess(client.send(infer));
                }
            }
            ServiceBenchmark.log("loop overhead: " + blocks + " alternating blocks of " + perBlock + " requests each, "
                    + variants.size() + " services");
            List<String> names = new ArrayList<>(clients.keySet());
            for (int block = 0; block < blocks; block++) {
                for (int k = 0; k < names.size(); k++) {
                    String name = names.get((block + k) % names.size());
                    MicrokernelClient client = clients.get(name);
                    HttpRequest infer = client.inferRequest(body);
                    Latencies into = latencies.get(name);
                    Latencies thisBlock = new Latencies();
                    for (int i = 0; i < perBlock; i++) {
                        long start = System.nanoTime();
                        ServiceBenchmark.requireSuccess(client.send(infer));
                        long took = System.nanoTime() - start;
                        into.recordNanos(took);
                        thisBlock.recordNanos(took);
                    }
                    blockP50s.get(name).add(thisBlock.p50Ms());
                }
            }
        } finally {
            for (MicrokernelClient client : clients.values()) {
                client.close();
            }
            for (ServiceProcess service : services.values()) {
                service.close();
            }
        }
        double off = latencies.get("off").p50Ms();
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("prediction_log_overhead_p50", Latencies.round(latencies.get("prediction_log").p50Ms() / off));
        figures.put("drift_watch_overhead_p50", Latencies.round(latencies.get("drift_watch").p50Ms() / off));
        if (baselineJar.isPresent()) {
            figures.put("prediction_log_overhead_p50_baseline", Latencies.round(
                    latencies.get("prediction_log_baseline").p50Ms() / latencies.get("off_baseline").p50Ms()));
        }
        Map<String, Object> detail = new LinkedHashMap<>();
        latencies.forEach((name, l) -> detail.put(name, l.summary()));
        // The same ratio block by block (each block against the off block of its round): its spread shows the noise.
        Map<String, Object> ratios = new LinkedHashMap<>();
        ratios.put("prediction_log", blockRatios(blockP50s.get("prediction_log"), blockP50s.get("off")));
        ratios.put("drift_watch", blockRatios(blockP50s.get("drift_watch"), blockP50s.get("off")));
        if (baselineJar.isPresent()) {
            ratios.put("prediction_log_baseline", blockRatios(blockP50s.get("prediction_log_baseline"),
                    blockP50s.get("off_baseline")));
        }
        detail.put("block_p50_ratios", ratios);
        figures.put("loop_overhead_latencies", detail);
        return figures;
    }

    private static List<Double> blockRatios(List<Double> on, List<Double> off) {
        List<Double> ratios = new ArrayList<>(on.size());
        for (int i = 0; i < on.size(); i++) {
            ratios.add(Latencies.round(on.get(i) / off.get(i)));
        }
        return ratios;
    }
}

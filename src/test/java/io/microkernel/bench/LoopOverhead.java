package io.microkernel.bench;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What closing the loop costs inference: three services on the same artifact set, one with the
 * prediction log and drift watch off, one with the log on, one with the drift watch on, answer the
 * same request in alternating blocks at concurrency 1. The figures are ratios of p50s taken side by
 * side: {@code prediction_log_overhead_p50} (log on / off) and {@code drift_watch_overhead_p50}
 * (drift on / off).
 */
final class LoopOverhead {

    private LoopOverhead() {
    }

    static Map<String, Object> measure(Path jar, Path work, Path artifacts, List<String> jvmOptions, int warmup,
            int blocks, int perBlock) throws Exception {
        Map<String, Map<String, String>> variants = new LinkedHashMap<>();
        variants.put("off", Map.of());
        variants.put("prediction_log", Map.of("microkernel.feedback.enabled", "true"));
        variants.put("drift_watch", Map.of("microkernel.drift.enabled", "true"));
        Map<String, ServiceProcess> services = new LinkedHashMap<>();
        Map<String, MicrokernelClient> clients = new LinkedHashMap<>();
        Map<String, Latencies> latencies = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Map<String, String>> variant : variants.entrySet()) {
                Map<String, String> properties = new LinkedHashMap<>(variant.getValue());
                Path dataDir = work.resolve("loop-" + variant.getKey());
                ServiceBenchmark.deleteRecursively(dataDir);
                properties.put("microkernel.data-dir", dataDir.toAbsolutePath().toString());
                properties.put("microkernel.model.artifacts", artifacts.toAbsolutePath().toString());
                ServiceProcess service = ServiceProcess.start(jar, jvmOptions, properties,
                        work.resolve("loop-" + variant.getKey() + ".log"));
                services.put(variant.getKey(), service);
                MicrokernelClient client = new MicrokernelClient(service.base(), ServiceBenchmark.MODEL);
                clients.put(variant.getKey(), client);
                ServiceBenchmark.awaitReady(service, client);
                latencies.put(variant.getKey(), new Latencies());
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
            ServiceBenchmark.log("loop overhead: " + blocks + " alternating blocks of " + perBlock + " requests each");
            for (int block = 0; block < blocks; block++) {
                for (Map.Entry<String, MicrokernelClient> entry : clients.entrySet()) {
                    HttpRequest infer = entry.getValue().inferRequest(body);
                    Latencies into = latencies.get(entry.getKey());
                    for (int i = 0; i < perBlock; i++) {
                        long start = System.nanoTime();
                        ServiceBenchmark.requireSuccess(entry.getValue().send(infer));
                        into.recordNanos(System.nanoTime() - start);
                    }
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
        Map<String, Object> detail = new LinkedHashMap<>();
        latencies.forEach((name, l) -> detail.put(name, l.summary()));
        figures.put("loop_overhead_latencies", detail);
        return figures;
    }
}

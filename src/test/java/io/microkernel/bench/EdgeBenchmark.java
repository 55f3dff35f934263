package io.microkernel.bench;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Start-up and footprint of the packaged service, side by side in one run (issue "edge-ready"):
 * today's packaging ({@code java -jar} on the JDK running the bench) against the fast path (a JDK 25
 * with the ahead-of-time cache {@code deploy/train-start-cache} trained, or AppCDS on JDK 17 when no
 * JDK 25 is found) with the run's options and with the edge profile's, alternating restarts on one
 * bootstrapped data dir; idle RSS and RSS after 10,000
 * requests of the default settings and of the edge profile ({@code deploy/edge.jvm-options});
 * and the arm64 self-check under emulation when {@code qemu-aarch64-static} and an arm64 JRE are there.
 * The edge runs get the malloc settings of {@code deploy/edge.env} (the environment the image's edge
 * runs get) and a start-up cache trained with the edge options.
 */
final class EdgeBenchmark {

    private static final String MODEL = "default";
    private static final String ARM64_JAVA = "usr/lib/jvm/java-17-openjdk-arm64/bin/java";

    private final Path jar;
    private final Path work;
    private final int starts;
    private final int requests;

    EdgeBenchmark(Path jar, Path work, boolean quick) {
        this.jar = jar.toAbsolutePath();
        this.work = work.toAbsolutePath().resolve("edge");
        this.starts = quick ? 2 : 5;
        this.requests = quick ? 1_000 : 10_000;
    }

    Map<String, Object> run() throws Exception {
        Files.createDirectories(work);
        Map<String, String> edgeEnv = edgeEnvironment();
        Map<String, Object> figures = new LinkedHashMap<>();
        Path plainJava = Path.of(System.getProperty("java.home"), "bin", "java");
        Path fastJava = fastJava().orElse(plainJava);
        // The JDK's folder name (e.g. java-17-openjdk-amd64), not where this machine keeps it.
        figures.put("java", jdkName(plainJava));
        figures.put("java_fast", jdkName(fastJava));
        figures.put("edge_environment", edgeEnv.toString());
        ServiceBenchmark.log("edge: training the start-up caches with " + fastJava);
        Path cache = work.resolve("start-cache");
        trainCache(fastJava, cache, List.of(), Map.of());
        String edgeArgFile = "@" + Path.of("deploy", "edge.jvm-options").toAbsolutePath();
        // A cache is valid for the options it was trained with (GC, heap): the edge runs get their own.
        Path edgeCache = work.resolve("start-cache-edge");
        trainCache(fastJava, edgeCache, List.of(edgeArgFile), edgeEnv);
        List<String> cacheOption = List.of(Files.readString(cache.resolve("java-options")).trim());
        // Recorded relative to the working directory, so results.json names no machine's folders.
        figures.put("fast_path_option", cacheOption.get(0).replace(Path.of("").toAbsolutePath() + "/", ""));

        Path data = work.resolve("data");
        deleteTree(data);
        start("bootstrap", plainJava, List.of(), Map.of(), data).close();
        List<String> edgeOptions = List.of(Files.readString(edgeCache.resolve("java-options")).trim(), edgeArgFile);
        List<Long> plain = new ArrayList<>();
        List<Long> fast = new ArrayList<>();
        List<Long> fastEdge = new ArrayList<>();
        for (int i = 0; i < starts; i++) {
            ServiceBenchmark.log("edge: restart " + (i + 1) + "/" + starts + ", plain, fast and fast with the edge profile");
            try (Started s = start("plain-" + i, plainJava, BenchmarkMain.SERVICE_JVM_OPTIONS, Map.of(), data)) {
                plain.add(s.firstInferenceMs);
            }
            try (Started s = start("fast-" + i, fastJava, concat(cacheOption, BenchmarkMain.SERVICE_JVM_OPTIONS), Map.of(), data)) {
                fast.add(s.firstInferenceMs);
            }
            // What an edge box runs: the fast path with the edge profile (its own cache, options and malloc settings).
            try (Started s = start("fast-edge-" + i, fastJava, edgeOptions, edgeEnv, data)) {
                fastEdge.add(s.firstInferenceMs);
            }
        }
        figures.put("startup_runs_ms", plain);
        figures.put("startup_fast_runs_ms", fast);
        figures.put("startup_to_first_inference_ms", median(plain));
        figures.put("startup_to_first_inference_ms_fast", median(fast));
        figures.put("startup_speedup", Latencies.round((double) median(plain) / median(fast)));
        figures.put("startup_fast_edge_runs_ms", fastEdge);
        figures.put("startup_to_first_inference_ms_fast_edge", median(fastEdge));
        figures.put("startup_speedup_edge", Latencies.round((double) median(plain) / median(fastEdge)));

        footprint("default", plainJava, BenchmarkMain.SERVICE_JVM_OPTIONS, Map.of(), data, figures, "");
        footprint("edge", fastJava, edgeOptions, edgeEnv, data, figures, "_edge");
        // The cache's mapped pages count in RSS too: the edge profile without it, on the bench's own JDK.
        footprint("edge-without-cache", plainJava, List.of(edgeArgFile), edgeEnv, data, figures, "_edge_without_cache");
        arm64SelfCheck(figures);
        return figures;
    }

    /** The glibc settings ({@code MALLOC_*}) of {@code deploy/edge.env}; its JVM options come from the argument file. */
    private static Map<String, String> edgeEnvironment() throws IOException {
        java.util.Properties env = new java.util.Properties();
        try (var in = Files.newInputStream(Path.of("deploy", "edge.env"))) {
            env.load(in);
        }
        Map<String, String> malloc = new java.util.TreeMap<>();
        env.stringPropertyNames().stream().filter(n -> n.startsWith("MALLOC_")).forEach(n -> malloc.put(n, env.getProperty(n)));
        return malloc;
    }

    /** Runs {@code deploy/train-start-cache} with {@code java}, the given JVM options and environment. */
    private void trainCache(Path java, Path cache, List<String> options, Map<String, String> env) throws Exception {
        Path log = work.resolve(cache.getFileName() + ".log");
        List<String> command = new ArrayList<>(List.of("deploy/train-start-cache", jar.toString(), cache.toString()));
        command.addAll(options);
        ProcessBuilder trainer = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        trainer.environment().putAll(env);
        trainer.environment().put("JAVA", java.toString());
        trainer.environment().put("TRAINING_PORT", Integer.toString(freePort()));
        Process training = trainer.start();
        if (!training.waitFor(10, TimeUnit.MINUTES) || training.exitValue() != 0) {
            training.destroyForcibly();
            throw new IOException("deploy/train-start-cache failed; see " + log);
        }
    }

    private void footprint(String name, Path java, List<String> options, Map<String, String> env, Path data,
            Map<String, Object> figures, String suffix) throws Exception {
        ServiceBenchmark.log("edge: RSS of " + name + " settings, idle and after " + requests + " requests");
        try (Started s = start(name, java, options, env, data)) {
            Thread.sleep(2_000);
            figures.put("startup_to_first_inference_ms_footprint_run" + suffix,
                    s.firstInferenceMs);
            figures.put("rss_mb_idle" + suffix, Latencies.round(s.rssMb()));
            try (MicrokernelClient client = new MicrokernelClient(s.base, MODEL)) {
                HttpRequest infer = client.inferRequest(zeroImage());
                for (int i = 0; i < requests; i++) {
                    HttpResponse<String> response = client.send(infer);
                    if (!MicrokernelClient.isInferSuccess(response)) {
                        throw new IOException(name + ": request " + i + " answered " + response.statusCode());
                    }
                }
            }
            figures.put("rss_mb_after_" + requests / 1000 + "k_requests" + suffix, Latencies.round(s.rssMb()));
        }
    }

    private void arm64SelfCheck(Map<String, Object> figures) throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-aarch64-static");
        Path root = List.of(Path.of("/"), Path.of("/opt/arm64-jre")).stream()
                .filter(r -> Files.isExecutable(r.resolve(ARM64_JAVA))).findFirst().orElse(null);
        if (!Files.isExecutable(qemu) || root == null) {
            figures.put("arm64_selfcheck", "skipped: needs " + qemu + " and an arm64 JRE (see .ci/run)");
            return;
        }
        ServiceBenchmark.log("edge: arm64 selfcheck under emulation");
        Path log = work.resolve("arm64-selfcheck.log");
        long start = System.nanoTime();
        Process p = new ProcessBuilder(qemu.toString(), "-L", root.toString(), root.resolve(ARM64_JAVA).toString(),
                "-jar", jar.toString(), "selfcheck").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        figures.put("arm64_selfcheck", done && p.exitValue() == 0 ? "pass" : "fail; see " + log);
        figures.put("arm64_selfcheck_s_under_emulation", Math.round((System.nanoTime() - start) / 1e9));
        if (!done) {
            p.destroyForcibly();
        }
    }

    /** A JDK 25 or later: {@code JAVA25_HOME}, else none (the fast path then is AppCDS on this JDK). */
    private static java.util.Optional<Path> fastJava() {
        String home = System.getenv("JAVA25_HOME");
        return home == null || home.isBlank() ? java.util.Optional.empty()
                : java.util.Optional.of(Path.of(home, "bin", "java")).filter(Files::isExecutable);
    }

    private Started start(String name, Path java, List<String> options, Map<String, String> env, Path data)
            throws Exception {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(java.toString()));
        command.addAll(options);
        command.addAll(List.of("-Dquarkus.http.port=" + port, "-Dmicrokernel.grpc.port=0",
                "-Dmicrokernel.data-dir=" + data, "-Dmicrokernel.model.artifacts=" + Path.of("models", "default").toAbsolutePath(),
                "-Dmicrokernel.training.threads=1", "-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(work.resolve(name + ".log").toFile());
        builder.environment().putAll(env);
        long spawned = System.nanoTime();
        Process process = builder.start();
        URI base = URI.create("http://127.0.0.1:" + port);
        try (MicrokernelClient client = new MicrokernelClient(base, MODEL)) {
            HttpRequest infer = client.inferRequest(zeroImage());
            long deadline = spawned + TimeUnit.MINUTES.toNanos(3);
            while (true) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IOException(name + ": no inference answered; see " + work.resolve(name + ".log"));
                }
                try {
                    if (MicrokernelClient.isInferSuccess(client.send(infer))) {
                        break;
                    }
                } catch (ConnectException e) {
                    // Not listening yet.
                }
                Thread.sleep(10);
            }
        }
        return new Started(process, base, (System.nanoTime() - spawned) / 1_000_000);
    }

    private static String zeroImage() {
        String zeros = IntStream.range(0, 256).mapToObj(i -> "0").collect(Collectors.joining(","));
        return "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,16,16],\"datatype\":\"FP32\",\"data\":[" + zeros + "]}]}";
    }

    private record Started(Process process, URI base, long firstInferenceMs) implements AutoCloseable {
        double rssMb() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim()) / 1024.0;
                }
            }
            throw new IOException("no VmRSS for " + process.pid());
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private static long median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path path) throws IOException {
        if (Files.exists(path)) {
            try (var walk = Files.walk(path)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    static String describe(Map<String, Object> figures) {
        return figures.entrySet().stream().filter(e -> !(e.getValue() instanceof List))
                .map(e -> String.format("| %-46s | %14s |", e.getKey(), e.getValue()))
                .collect(Collectors.joining("\n", "| edge figure | value |\n|---|---|\n", "\n"))
                + "starts ms, plain " + figures.get("startup_runs_ms") + ", fast " + figures.get("startup_fast_runs_ms")
                + ", fast with the edge profile " + figures.get("startup_fast_edge_runs_ms") + "\n";
    }

    /** The name of the JDK folder a {@code bin/java} belongs to. */
    static String jdkName(Path java) {
        Path home = java.toAbsolutePath().getParent() == null ? null : java.toAbsolutePath().getParent().getParent();
        return home == null || home.getFileName() == null ? java.getFileName().toString() : home.getFileName().toString();
    }
}

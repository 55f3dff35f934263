package io.microkernel.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * HTTP throughput at saturation on batch-1 requests against in-process throughput, measured so the
 * figure says what the service does and what the load generator costs, since both share the cores.
 *
 * <p>Kinds of load, in alternating blocks of the plan's saturation period after one discarded
 * block of each (the first block of a concurrency the JVMs have not seen yet includes their JIT
 * compiling it): the {@code java.net.http} client the rest of the benchmark uses, JSON bodies;
 * {@link LeanHttpClient}, one blocking keep-alive connection per thread, JSON bodies; the same with
 * Triton's binary tensor extension (what tritonclient sends by default); and the in-process session
 * on the plan's in-process threads. During every block the CPU time of the service process and of
 * this driver process (the client) is read from {@code /proc/<pid>/stat}, and the service's per
 * thread from {@code /proc/<pid>/task/<tid>/stat}, grouped by thread name.
 *
 * <p>With {@code --compare-jar}, two more services, started like the run's own at the same moment
 * and warmed alike in alternation, one from this run's jar (the twin) and one from the other jar,
 * are measured with the lean client in the same alternating blocks: a before-and-after in one run
 * in which neither JVM has had longer to compile.
 */
final class HttpSaturation {

    private static final byte[] OUTPUTS = "\"outputs\"".getBytes(StandardCharsets.UTF_8);
    private static final long TICKS_PER_SECOND = clockTicks();

    private final ServiceBenchmark bench;
    private final ServiceBenchmark.Plan plan;

    HttpSaturation(ServiceBenchmark bench, ServiceBenchmark.Plan plan) {
        this.bench = bench;
        this.plan = plan;
    }

    /** A call per worker thread of a closed loop, made by {@link Load#worker()}; closed when the block ends. */
    interface Worker extends AutoCloseable {
        void call() throws Exception;

        @Override
        default void close() {
        }
    }

    /** One kind of load against one process (the service, or this driver for the in-process runs). */
    record Load(String name, int workers, long pid, WorkerFactory factory) {
        Worker worker() throws IOException {
            return factory.open();
        }
    }

    interface WorkerFactory {
        Worker open() throws IOException;
    }

    /** What the blocks of one load added up to. */
    static final class Totals {
        long requests;
        double seconds;
        long serviceTicks;
        long driverTicks;
        final List<Long> blockRps = new ArrayList<>();
        final Latencies latencies = new Latencies();
        final Map<String, Long> serviceThreadTicks = new TreeMap<>();

        double perSecond() {
            return requests / seconds;
        }

        double serviceCpuMicrosPerRequest() {
            return serviceTicks * 1e6 / TICKS_PER_SECOND / requests;
        }

        /** The service's CPU per request left after its JIT compiler threads' share, which warm-up should have spent. */
        double serviceCpuMicrosPerRequestWithoutJit() {
            long jit = serviceThreadTicks.entrySet().stream().filter(e -> e.getKey().contains("CompilerThre"))
                    .mapToLong(Map.Entry::getValue).sum();
            return (serviceTicks - jit) * 1e6 / TICKS_PER_SECOND / requests;
        }

        double driverCpuMicrosPerRequest() {
            return driverTicks * 1e6 / TICKS_PER_SECOND / requests;
        }

        Map<String, Object> asJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("rps", Math.round(perSecond()));
            json.put("block_rps", blockRps);
            json.put("requests", requests);
            json.put("service_cpu_us_per_request", Latencies.round(serviceCpuMicrosPerRequest()));
            json.put("service_cpu_us_per_request_without_jit", Latencies.round(serviceCpuMicrosPerRequestWithoutJit()));
            json.put("client_cpu_us_per_request", Latencies.round(driverCpuMicrosPerRequest()));
            json.put("client_cpu_share", ServiceBenchmark.ratio(driverTicks, driverTicks + serviceTicks));
            json.put("cores_busy", Latencies.round((serviceTicks + driverTicks) / (double) TICKS_PER_SECOND / seconds));
            Map<String, Object> threads = new LinkedHashMap<>();
            serviceThreadTicks.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .filter(e -> e.getValue() > 0)
                    .forEach(e -> threads.put(e.getKey(), Latencies.round(e.getValue() * 1e6 / TICKS_PER_SECOND / requests)));
            json.put("service_cpu_us_per_request_by_thread", threads);
            json.put("latencies", latencies.summary());
            return json;
        }
    }

    /**
     * Measures every kind of load against {@code service} (and a second service from
     * {@code compareJar} when there is one); puts the figures into {@code figures}.
     *
     * @return the Java client's throughput, which paces the open-loop phases as before
     */
    double measure(String label, ServiceProcess service, MicrokernelClient client, ModelInputs one, InProcessModel inProcess,
            Path compareJar, Map<String, Object> figures, Map<String, Object> latencies) throws Exception {
        long driver = ProcessHandle.current().pid();
        int clients = plan.httpSaturationClients();
        String json = one.oipRequest();
        ModelInputs.BinaryBody binary = one.oipBinaryRequest();
        HttpRequest javaInfer = client.inferRequest(json);

        List<Load> loads = new ArrayList<>();
        loads.add(new Load("java_client_json", clients, service.pid(),
                () -> () -> ServiceBenchmark.requireSuccess(client.send(javaInfer))));
        loads.addAll(leanLoads("", service.base(), client.model(), json, binary, clients, service.pid()));
        loads.add(new Load("inprocess", plan.inProcessSaturationThreads(), driver, () -> () -> inProcess.run(one)));

        List<ServiceProcess> pair = new ArrayList<>();
        try {
            if (compareJar != null) {
                // Both started now and warmed alike, in alternation: neither JVM is further along compiling.
                ServiceBenchmark.log(label + ": starting a twin of the service and one from " + compareJar + " to compare");
                ServiceProcess twin = bench.startLike(label + "-twin", Map.of());
                pair.add(twin);
                ServiceProcess compared = bench.startLike(label + "-compared", Map.of(), compareJar);
                pair.add(compared);
                try (MicrokernelClient twinClient = new MicrokernelClient(twin.base(), client.model());
                        MicrokernelClient comparedClient = new MicrokernelClient(compared.base(), client.model())) {
                    ServiceBenchmark.awaitReadyService(twin, twinClient);
                    ServiceBenchmark.awaitReadyService(compared, comparedClient);
                    HttpRequest twinInfer = twinClient.inferRequest(json);
                    HttpRequest comparedInfer = comparedClient.inferRequest(json);
                    int requests = plan.warmupRequests() + plan.comparisonBlocks() * plan.requestsPerBlock();
                    for (int done = 0; done < requests; done += 500) {
                        for (int i = 0; i < 500; i++) {
                            ServiceBenchmark.requireSuccess(twinClient.send(twinInfer));
                        }
                        for (int i = 0; i < 500; i++) {
                            ServiceBenchmark.requireSuccess(comparedClient.send(comparedInfer));
                        }
                    }
                }
                loads.addAll(leanLoads("twin_", twin.base(), client.model(), json, binary, clients, twin.pid()));
                loads.addAll(leanLoads("compared_", compared.base(), client.model(), json, binary, clients, compared.pid()));
            }

            ServiceBenchmark.log(label + ": HTTP saturation, one warm-up block of each kind of load");
            Map<String, Totals> warmUp = new LinkedHashMap<>();
            for (Load load : loads) {
                warmUp.put(load.name(), block(load, driver, new Totals()));
            }
            ServiceBenchmark.log(label + ": HTTP saturation, " + plan.blocks() + " alternating blocks of "
                    + loads.stream().map(Load::name).toList());
            Map<String, Totals> totals = new LinkedHashMap<>();
            loads.forEach(load -> totals.put(load.name(), new Totals()));
            for (int b = 0; b < plan.blocks(); b++) {
                for (Load load : loads) {
                    block(load, driver, totals.get(load.name()));
                }
            }
            report(totals, warmUp, compareJar, figures, latencies);
            return totals.get("java_client_json").perSecond();
        } finally {
            for (ServiceProcess process : pair) {
                process.close();
            }
        }
    }

    private static List<Load> leanLoads(String prefix, URI base, String model, String json, ModelInputs.BinaryBody binary,
            int clients, long pid) {
        String path = "/v2/models/" + model + "/infer";
        byte[] jsonRequest = LeanHttpClient.request("POST", base, path, json.getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json");
        byte[] binaryRequest = LeanHttpClient.request("POST", base, path, binary.bytes(),
                "Content-Type", "application/octet-stream",
                "Inference-Header-Content-Length", Integer.toString(binary.headerLength()));
        return List.of(new Load(prefix + "lean_json", clients, pid, () -> leanWorker(base, jsonRequest)),
                new Load(prefix + "lean_binary", clients, pid, () -> leanWorker(base, binaryRequest)));
    }

    private static Worker leanWorker(URI base, byte[] request) {
        LeanHttpClient connection = new LeanHttpClient(base);
        return new Worker() {
            @Override
            public void call() throws IOException {
                int status = connection.exchange(request);
                // A binary answer's JSON header names the outputs too.
                if (status != 200 || !connection.bodyContains(OUTPUTS)) {
                    throw new IOException("inference answered " + status + ": "
                            + OpenLoopLoad.abbreviate(connection.bodyText()));
                }
            }

            @Override
            public void close() {
                connection.close();
            }
        };
    }

    /** One closed-loop block of {@code load}; adds its requests, time and CPU to {@code into}. */
    private Totals block(Load load, long driver, Totals into) throws Exception {
        List<Worker> workers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(load.workers());
        try {
            for (int w = 0; w < load.workers(); w++) {
                workers.add(load.worker());
            }
            Map<String, Long> threadsBefore = threadTicks(load.pid());
            long serviceBefore = processTicks(load.pid());
            long driverBefore = processTicks(driver);
            long start = System.nanoTime();
            long end = start + plan.saturation().toNanos();
            List<Future<Latencies>> results = new ArrayList<>();
            for (Worker worker : workers) {
                results.add(pool.submit(() -> {
                    Latencies mine = new Latencies();
                    long now;
                    while ((now = System.nanoTime()) < end) {
                        worker.call();
                        mine.recordNanos(System.nanoTime() - now);
                    }
                    return mine;
                }));
            }
            Latencies all = new Latencies();
            for (Future<Latencies> result : results) {
                all.add(result.get());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long driverTicks = processTicks(driver) - driverBefore;
            long serviceTicks = load.pid() == driver ? 0 : processTicks(load.pid()) - serviceBefore;
            Map<String, Long> threadsAfter = threadTicks(load.pid());
            into.requests += all.count();
            into.seconds += seconds;
            into.driverTicks += driverTicks;
            into.serviceTicks += serviceTicks;
            into.blockRps.add(Math.round(all.count() / seconds));
            into.latencies.add(all);
            if (load.pid() != driver) {
                threadsAfter.forEach((name, ticks) -> into.serviceThreadTicks.merge(name,
                        ticks - threadsBefore.getOrDefault(name, 0L), Long::sum));
            }
            return into;
        } finally {
            pool.shutdownNow();
            workers.forEach(Worker::close);
        }
    }

    private void report(Map<String, Totals> totals, Map<String, Totals> warmUp, Path compareJar, Map<String, Object> figures,
            Map<String, Object> latencies) {
        Totals java = totals.get("java_client_json");
        Totals lean = totals.get("lean_json");
        Totals binary = totals.get("lean_binary");
        Totals local = totals.get("inprocess");
        double localRps = local.perSecond();
        // The in-process runs' CPU is this driver's: the runs themselves and nothing else.
        double localMicros = local.driverCpuMicrosPerRequest();

        figures.put("http_saturation_rps", Math.round(lean.perSecond()));
        figures.put("inprocess_saturation_rps", Math.round(localRps));
        figures.put("http_over_inprocess_saturation_throughput", ServiceBenchmark.ratio(lean.perSecond(), localRps));
        figures.put("http_over_inprocess_throughput", ServiceBenchmark.ratio(lean.perSecond(), localRps));
        figures.put("http_saturation_rps_binary", Math.round(binary.perSecond()));
        figures.put("http_over_inprocess_throughput_binary", ServiceBenchmark.ratio(binary.perSecond(), localRps));
        figures.put("http_saturation_rps_java_client", Math.round(java.perSecond()));
        figures.put("http_over_inprocess_throughput_java_client", ServiceBenchmark.ratio(java.perSecond(), localRps));
        figures.put("http_saturation_rps_java_client_first_block", Math.round(warmUp.get("java_client_json").perSecond()));
        figures.put("http_saturation_client_cpu_share", ServiceBenchmark.ratio(lean.driverTicks, lean.driverTicks + lean.serviceTicks));
        figures.put("http_saturation_client_cpu_share_java_client",
                ServiceBenchmark.ratio(java.driverTicks, java.driverTicks + java.serviceTicks));
        figures.put("service_cpu_us_per_request", Latencies.round(lean.serviceCpuMicrosPerRequest()));
        figures.put("service_cpu_us_per_request_binary", Latencies.round(binary.serviceCpuMicrosPerRequest()));
        figures.put("service_cpu_us_per_request_without_jit", Latencies.round(lean.serviceCpuMicrosPerRequestWithoutJit()));
        figures.put("inprocess_cpu_us_per_run", Latencies.round(localMicros));
        // Runs per CPU-second over requests per service CPU-second: the ratio with the client's cost taken out.
        figures.put("http_over_inprocess_cpu_per_request", ServiceBenchmark.ratio(localMicros, lean.serviceCpuMicrosPerRequest()));
        figures.put("http_over_inprocess_cpu_per_request_binary",
                ServiceBenchmark.ratio(localMicros, binary.serviceCpuMicrosPerRequest()));

        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("clients", plan.httpSaturationClients());
        detail.put("inprocess_threads", plan.inProcessSaturationThreads());
        detail.put("block_seconds", plan.saturation().toMillis() / 1000.0);
        detail.put("blocks", plan.blocks());
        detail.put("clock_ticks_per_second", TICKS_PER_SECOND);
        Map<String, Object> warm = new LinkedHashMap<>();
        warmUp.forEach((name, t) -> warm.put(name, Math.round(t.perSecond())));
        detail.put("warm_up_block_rps", warm);
        // The discarded first blocks: how much of their service CPU went to compiling the new concurrency.
        Map<String, Object> warmCpu = new LinkedHashMap<>();
        warmUp.forEach((name, t) -> warmCpu.put(name, List.of(Latencies.round(t.serviceCpuMicrosPerRequest()),
                Latencies.round(t.serviceCpuMicrosPerRequestWithoutJit()))));
        detail.put("warm_up_block_service_cpu_us_per_request_with_and_without_jit", warmCpu);
        totals.forEach((name, t) -> detail.put(name, t.asJson()));
        if (compareJar != null) {
            detail.put("compared_jar", compareJar.toString());
            // This jar's twin against the compared jar: started together, warmed alike.
            Totals twinLean = totals.get("twin_lean_json");
            Totals twinBinary = totals.get("twin_lean_binary");
            Totals otherLean = totals.get("compared_lean_json");
            Totals otherBinary = totals.get("compared_lean_binary");
            detail.put("this_over_compared_rps_json", ServiceBenchmark.ratio(twinLean.perSecond(), otherLean.perSecond()));
            detail.put("this_over_compared_rps_binary", ServiceBenchmark.ratio(twinBinary.perSecond(), otherBinary.perSecond()));
            detail.put("compared_http_over_inprocess_throughput", ServiceBenchmark.ratio(otherLean.perSecond(), localRps));
            detail.put("this_over_compared_service_cpu_per_request_json",
                    ServiceBenchmark.ratio(twinLean.serviceCpuMicrosPerRequest(), otherLean.serviceCpuMicrosPerRequest()));
            detail.put("this_over_compared_service_cpu_per_request_binary",
                    ServiceBenchmark.ratio(twinBinary.serviceCpuMicrosPerRequest(), otherBinary.serviceCpuMicrosPerRequest()));
            detail.put("this_over_compared_service_cpu_per_request_without_jit_json", ServiceBenchmark.ratio(
                    twinLean.serviceCpuMicrosPerRequestWithoutJit(), otherLean.serviceCpuMicrosPerRequestWithoutJit()));
            detail.put("this_over_compared_service_cpu_per_request_without_jit_binary", ServiceBenchmark.ratio(
                    twinBinary.serviceCpuMicrosPerRequestWithoutJit(), otherBinary.serviceCpuMicrosPerRequestWithoutJit()));
        }
        figures.put("http_saturation", detail);
        latencies.put("http_saturation", lean.latencies.summary());
        latencies.put("http_saturation_java_client", java.latencies.summary());
        latencies.put("http_saturation_binary", binary.latencies.summary());
    }

    /** User plus system CPU of a process so far, in clock ticks ({@code /proc/<pid>/stat} fields 14 and 15). */
    static long processTicks(long pid) throws IOException {
        return ticks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
    }

    /** The same for a {@code stat} line's text. */
    static long ticks(String stat) {
        // The command name may hold spaces and parentheses; the fields after its last ')' are plain.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** CPU ticks of every thread of a process by thread name, digits and trailing dashes dropped (one pool, one entry). */
    static Map<String, Long> threadTicks(long pid) throws IOException {
        Map<String, Long> byName = new HashMap<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (Stream<Path> threads = Files.list(tasks)) {
            for (Path thread : threads.toList()) {
                try {
                    String stat = Files.readString(thread.resolve("stat"));
                    byName.merge(threadGroup(stat), ticks(stat), Long::sum);
                } catch (IOException ended) {
                    // The thread ended between listing and reading; its time is in no group.
                }
            }
        }
        return byName;
    }

    /** The thread's name from its {@code stat} line, with digits and what follows the last dash dropped. */
    static String threadGroup(String stat) {
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        return name.replaceAll("[0-9]+", "#").replaceAll("[-#]+$", "");
    }

    private static long clockTicks() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (getconf.waitFor() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | NumberFormatException e) {
            // Linux has used 100 on every common architecture for decades.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}

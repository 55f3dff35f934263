package io.microkernel.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The packaged service running as a child process, the way users run it.
 *
 * <p>Its output goes to a log file under the work folder so that a failed run can be read afterwards.
 */
final class ServiceProcess implements AutoCloseable {

    private final Process process;
    private final URI base;
    private final int grpcPort;
    private final long spawnedAtNanos;
    private final Path log;

    private ServiceProcess(Process process, URI base, int grpcPort, long spawnedAtNanos, Path log) {
        this.process = process;
        this.base = base;
        this.grpcPort = grpcPort;
        this.spawnedAtNanos = spawnedAtNanos;
        this.log = log;
    }

    /**
     * Starts {@code java -jar jar} on a free HTTP port and a free gRPC port with the given JVM options and system properties.
     */
    static ServiceProcess start(Path jar, List<String> jvmOptions, Map<String, String> properties, Path log)
            throws IOException {
        int port = freePort();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-Dquarkus.http.port=" + port);
        int grpcPort = freePort();
        while (grpcPort == port) {
            grpcPort = freePort();
        }
        command.add("-Dmicrokernel.grpc.port=" + grpcPort);
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(jar.toString());
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        long spawnedAt = System.nanoTime();
        Process process = builder.start();
        return new ServiceProcess(process, URI.create("http://127.0.0.1:" + port), grpcPort, spawnedAt, log);
    }

    URI base() {
        return base;
    }

    /** The port of the service's gRPC server ({@code microkernel.grpc.port}). */
    int grpcPort() {
        return grpcPort;
    }

    long pid() {
        return process.pid();
    }

    long spawnedAtNanos() {
        return spawnedAtNanos;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path log() {
        return log;
    }

    /** Resident set size of the service process, from {@code /proc/<pid>/status}. */
    double rssMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                String kilobytes = line.substring("VmRSS:".length()).replace("kB", "").trim();
                return Long.parseLong(kilobytes) / 1024.0;
            }
        }
        throw new IOException("no VmRSS line for process " + process.pid());
    }

    /**
     * Asks the service JVM for a full garbage collection ({@code jcmd <pid> GC.run}) and returns its
     * RSS afterwards, so that heap garbage neither hides nor fakes a trend; {@code NaN} when jcmd is
     * not available.
     */
    double rssMbAfterFullGc() throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return Double.NaN;
        }
        Process gc = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!gc.waitFor(60, TimeUnit.SECONDS) || gc.exitValue() != 0) {
            gc.destroyForcibly();
            return Double.NaN;
        }
        return settledRssMb();
    }

    /**
     * RSS once it stops moving: G1 returns freed heap regions to the OS concurrently, after the
     * collection has returned, so a reading taken at once would still count them.
     */
    private double settledRssMb() throws IOException {
        double last = rssMb();
        int stableReadings = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (stableReadings < 3 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            double current = rssMb();
            stableReadings = Math.abs(current - last) < 0.5 ? stableReadings + 1 : 0;
            last = current;
        }
        return last;
    }

    /** The last lines of the service log, for error messages. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}

package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.testing.TinyModels;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The packaged application ({@code target/*-runner.jar}) as a child process on a free port, for
 * tests that need a real process: kill it, stop it, start it again on the same data dir.
 * Closing it kills whatever is still running.
 */
final class PackagedApp implements AutoCloseable {

    static final Path RUNNER = Path.of("target", "onnx-microkernel-0.1.0-SNAPSHOT-runner.jar");
    /** The gRPC server on any free port, so a run never depends on 8081 being free. */
    static final String GRPC_ANY_PORT = "-Dmicrokernel.grpc.port=0";
    private static final Duration START = Duration.ofMinutes(2);

    private final String logFolder;
    private final int port;
    private Process process;
    private Path log;

    /** @param logFolder the folder under {@code target/} that keeps the logs, so they outlive the test's temp folder */
    PackagedApp(String logFolder) throws IOException {
        assertThat(RUNNER).as("the packaged application; run 'mvn package' first").isRegularFile();
        this.logFolder = logFolder;
        this.port = freePort();
    }

    /**
     * Builds the tiny classifier artifact set (input [-1,4], classes a, b, c; trainable head) in
     * {@code target}, for the application to bootstrap from.
     */
    static Path tinyClassifier(Path target) {
        ArtifactBuilder.fromModel(TinyModels.classifier(1)).trainablePattern(Pattern.compile("head\\..*"))
                .classNames(List.of("a", "b", "c")).build(OrtRuntime.start(Optional.empty()).environment(), target);
        return target;
    }

    int port() {
        return port;
    }

    Process process() {
        return process;
    }

    /** The output of the process started last. */
    Path log() {
        return log;
    }

    /** How a command of the packaged jar ended: its exit status and everything it printed. */
    record Finished(int exitCode, String output) {
    }

    /**
     * Runs the packaged jar with {@code args} (and {@code quarkus.http.port} set to {@link #port()}) and
     * waits for it to exit by itself; a process still running after a minute (a server) fails the test.
     */
    Finished runToEnd(String name, String... args) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-Dquarkus.http.port=" + port, GRPC_ANY_PORT,
                "-jar", RUNNER.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        log = Files.createDirectories(Path.of("target", logFolder)).resolve("command-" + name + ".log");
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean exited = process.waitFor(1, TimeUnit.MINUTES);
        assertThat(exited).as("'%s' exits by itself; see %s", String.join(" ", args), log).isTrue();
        return new Finished(process.exitValue(), Files.readString(log));
    }

    /** Starts the application on {@code data}, bootstrapping from {@code artifacts}, and waits until it is ready. */
    void start(Path artifacts, Path data, String name) throws IOException {
        start(artifacts, data, name, List.of());
    }

    /** As {@link #start(Path, Path, String)}, with more JVM options ({@code -Dkey=value}) before the jar. */
    void start(Path artifacts, Path data, String name, List<String> jvmOptions) throws IOException {
        log = Files.createDirectories(Path.of("target", logFolder)).resolve("app-" + name + ".log");
        ProcessBuilder builder = new ProcessBuilder(serverCommand(artifacts, data, jvmOptions)).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        process = builder.start();
        await().atMost(START).pollInterval(Duration.ofMillis(250)).until(() -> {
            if (!process.isAlive()) {
                throw new AssertionError("the application exited with " + process.exitValue() + "; see " + log
                        + ":\n" + Files.readString(log));
            }
            try {
                return given().port(port).get("/v2/health/ready").statusCode() == 200;
            } catch (Exception e) {
                // Not listening yet.
                return false;
            }
        });
    }

    /** Starts the server as {@link #start} does and waits for it to exit by itself (a server that cannot start). */
    Finished startToEnd(Path artifacts, Path data, String name) throws IOException, InterruptedException {
        log = Files.createDirectories(Path.of("target", logFolder)).resolve("app-" + name + ".log");
        process = new ProcessBuilder(serverCommand(artifacts, data, List.of())).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean exited = process.waitFor(1, TimeUnit.MINUTES);
        assertThat(exited).as("the server exits by itself; see %s", log).isTrue();
        return new Finished(process.exitValue(), Files.readString(log));
    }

    /** Where a crashing JVM of this app writes its {@code hs_err_pid*.log}. */
    Path crashReports() {
        return Path.of("target", logFolder).toAbsolutePath();
    }

    private List<String> serverCommand(Path artifacts, Path data, List<String> jvmOptions) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m",
                "-XX:ErrorFile=" + Files.createDirectories(crashReports()).resolve("hs_err_pid%p.log"),
                "-Dquarkus.http.port=" + port,
                GRPC_ANY_PORT,
                "-Dmicrokernel.data-dir=" + data,
                "-Dmicrokernel.model.artifacts=" + artifacts,
                "-Dmicrokernel.training.threads=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", RUNNER.toAbsolutePath().toString()));
        return command;
    }

    /** Posts {@code n} labelled samples of the tiny classifier's task; returns how many were accepted. */
    long postSamples(int n, long seed) {
        float[][] x = TinyModels.dataset(n, 4, seed);
        long[] y = TinyModels.labels(x);
        List<String> samples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            samples.add(String.format(Locale.ROOT, "{\"input\":[%s,%s,%s,%s],\"label\":%d}",
                    x[i][0], x[i][1], x[i][2], x[i][3], y[i]));
        }
        return given().port(port).contentType(ContentType.JSON)
                .body("{\"samples\":[" + String.join(",", samples) + "]}")
                .post("/v1/models/default/samples").then().statusCode(202).extract().jsonPath().getLong("accepted");
    }

    /** Starts a round with {@code body}'s overrides; returns its id. */
    long startRound(String body) {
        return given().port(port).contentType(ContentType.JSON).body(body).post("/v1/models/default/rounds")
                .then().log().ifValidationFails().statusCode(202).extract().jsonPath().getLong("id");
    }

    JsonPath round(long id) {
        return given().port(port).get("/v1/models/default/rounds/" + id).then().statusCode(200).extract().jsonPath();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

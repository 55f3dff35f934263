package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast path: {@code deploy/train-start-cache} trains a start-up cache of the packaged jar with the
 * JDK running the tests (an AppCDS archive on JDK 17, an ahead-of-time cache on JDK 25), and a start with
 * it serves with the application's own classes read from that cache. The JVM option that the script
 * writes is used as it is, with {@code -Xshare:on} or {@code -XX:AOTMode=on}, so a cache the JVM cannot use
 * fails the start instead of being silently ignored. The speed itself is measured by {@code bench/run}.
 */
class FastStartIT {

    @TempDir
    Path dir;

    @Test
    void aTrainedCacheIsUsedByTheNextStartAndItServes() throws Exception {
        Path cache = dir.resolve("cache");
        Path log = Files.createDirectories(Path.of("target", "fast-start")).resolve("train-start-cache.log");
        ProcessBuilder trainer = new ProcessBuilder("deploy/train-start-cache", PackagedApp.RUNNER.toString(), cache.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        trainer.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            trainer.environment().put("TRAINING_PORT", Integer.toString(socket.getLocalPort()));
        }
        Process training = trainer.start();
        assertThat(training.waitFor(5, TimeUnit.MINUTES)).as("the training run ends; see %s", log).isTrue();
        assertThat(training.exitValue()).as("train-start-cache's exit code; see %s:%n%s", log, Files.readString(log)).isZero();

        String option = Files.readString(cache.resolve("java-options")).trim();
        boolean aot = option.startsWith("-XX:AOTCache=");
        Path cacheFile = Path.of(option.substring(option.indexOf('=') + 1));
        assertThat(cacheFile).isRegularFile().isNotEmptyFile();
        Path classLog = dir.resolve("class-load.log");
        try (PackagedApp app = new PackagedApp("fast-start")) {
            app.start(Path.of("models", "default").toAbsolutePath(), dir.resolve("data"), "with-cache",
                    List.of(option, aot ? "-XX:AOTMode=on" : "-Xshare:on", "-Xlog:class+load=info:file=" + classLog));
            given().port(app.port()).get("/v2/models/default/ready").then().statusCode(200);
            // Where the start's time went, one line once the model serves (bench/RESULTS.md reads these).
            assertThat(Files.readString(app.log())).as("the start-up timeline in %s", app.log()).containsPattern(
                    "model ready \\d+ ms after the JVM started: JVM start to main \\d+ ms, command line \\d+ ms,"
                    + " Quarkus boot up to the model's start-up \\d+ ms, native library \\(.+\\) \\d+ ms,"
                    + " ONNX Runtime load and environment \\d+ ms, model store \\d+ ms,"
                    + " (bootstrap from the artifact set \\d+ ms, )?model load and warm-up \\d+ ms");
        }
        List<String> fromCache = Files.readAllLines(classLog).stream()
                .filter(line -> line.contains(" io.microkernel.") && line.contains("shared objects file")).toList();
        assertThat(fromCache).as("application classes read from the cache (%s)", classLog).isNotEmpty()
                .anyMatch(line -> line.contains("io.microkernel.serving.ServedModel "));
    }
}

package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 in the middle of a training round, with clients still posting samples, then restart on
 * the same data dir: the last published version serves, no half version is visible, every
 * acknowledged sample is there, and the interrupted round is marked failed with its cause. Runs
 * the packaged application ({@code target/*-runner.jar}) as a child process.
 */
class CrashSafetyIT {

    private static final Duration ROUND = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    private PackagedApp app;
    private int port;

    @AfterEach
    void stop() throws InterruptedException {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void killDuringARoundLosesNoAcknowledgedSampleAndNoPublishedVersion() throws Exception {
        Path artifacts = PackagedApp.tinyClassifier(dir.resolve("artifacts"));
        Path data = dir.resolve("data");
        app = new PackagedApp("crash-safety-it");
        port = app.port();

        app.start(artifacts, data, "first");
        assertThat(activeVersion()).isEqualTo(1);
        long acknowledged = 0;
        for (int batch = 0; batch < 2; batch++) {
            acknowledged += app.postSamples(200, batch);
        }

        // Version 2: a round that learns, so "the last published version" is one a round made.
        long first = app.startRound("{\"epochs\":8,\"batch_size\":32,\"learning_rate\":0.05,\"seed\":1}");
        await().atMost(ROUND).until(() -> isFinal(app.round(first).getString("state")));
        assertThat(app.round(first).getString("state")).isEqualTo("promoted");
        int published = app.round(first).getInt("promoted_version");
        assertThat(activeVersion()).isEqualTo(published);

        // A long round, and a client that keeps posting samples until the process dies.
        long doomed = app.startRound("{\"epochs\":10000,\"batch_size\":4,\"learning_rate\":0.01}");
        await().atMost(ROUND).until(() -> "running".equals(app.round(doomed).getString("state"))
                && app.round(doomed).getLong("progress.step") > 0);
        AtomicLong acknowledgedDuringRound = new AtomicLong();
        AtomicBoolean posting = new AtomicBoolean(true);
        AtomicLong postsSent = new AtomicLong();
        Thread poster = new Thread(() -> {
            int i = 100;
            while (posting.get()) {
                try {
                    postsSent.incrementAndGet();
                    acknowledgedDuringRound.addAndGet(app.postSamples(5, i++));
                } catch (Exception | AssertionError e) {
                    return; // the process is gone
                }
            }
        });
        poster.start();
        await().atMost(ROUND).until(() -> acknowledgedDuringRound.get() >= 50);
        app.process().destroyForcibly().waitFor();
        posting.set(false);
        poster.join();
        acknowledged += acknowledgedDuringRound.get();

        app.start(artifacts, data, "second");

        // The last published version serves, and only intact versions exist.
        assertThat(activeVersion()).isEqualTo(published);
        given().port(port).contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,0,0,0]}]}")
                .post("/v2/models/default/infer").then().statusCode(200)
                .body("model_version", org.hamcrest.Matchers.equalTo(Integer.toString(published)));
        List<Integer> versions = given().port(port).get("/v1/models/default/versions").then().statusCode(200)
                .extract().jsonPath().getList("versions.version", Integer.class);
        assertThat(versions).containsExactly(1, published);
        try (Stream<Path> folders = Files.list(data.resolve("models/default/versions"))) {
            assertThat(folders.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("1", Integer.toString(published));
        }
        // Every acknowledged sample is still there; at most the one request in flight at the kill may
        // have been stored without its answer reaching the client.
        long total = given().port(port).get("/v1/models/default/samples").then().statusCode(200)
                .extract().jsonPath().getLong("total");
        assertThat(total).isBetween(acknowledged, acknowledged + 5);
        // The interrupted round is failed, with its cause, and a new round can run.
        JsonPath interrupted = app.round(doomed);
        assertThat(interrupted.getString("state")).isEqualTo("failed");
        assertThat(interrupted.getString("cause")).isEqualTo("process stopped during the round");
        assertThat(interrupted.getString("finished_at")).isNotNull();
        long next = app.startRound("{\"epochs\":1,\"batch_size\":32,\"learning_rate\":0.01}");
        assertThat(next).isGreaterThan(doomed);
        await().atMost(ROUND).until(() -> isFinal(app.round(next).getString("state")));
    }

    private int activeVersion() {
        return given().port(port).get("/v1/models/default/versions").then().statusCode(200)
                .extract().jsonPath().getInt("active");
    }

    private static boolean isFinal(String state) {
        return !"queued".equals(state) && !"running".equals(state);
    }
}

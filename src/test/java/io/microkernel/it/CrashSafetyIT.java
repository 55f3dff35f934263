package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microkernel.testing.TinyModels;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
            acknowledged += postSamples(200, batch);
        }

        // Version 2: a round that learns, so "the last published version" is one a round made.
        long first = startRound("{\"epochs\":8,\"batch_size\":32,\"learning_rate\":0.05,\"seed\":1}");
        await().atMost(ROUND).until(() -> isFinal(round(first).getString("state")));
        assertThat(round(first).getString("state")).isEqualTo("promoted");
        int published = round(first).getInt("promoted_version");
        assertThat(activeVersion()).isEqualTo(published);

        // A long round, and a client that keeps posting samples until the process dies.
        long doomed = startRound("{\"epochs\":10000,\"batch_size\":4,\"learning_rate\":0.01}");
        await().atMost(ROUND).until(() -> "running".equals(round(doomed).getString("state"))
                && round(doomed).getLong("progress.step") > 0);
        AtomicLong acknowledgedDuringRound = new AtomicLong();
        AtomicBoolean posting = new AtomicBoolean(true);
        AtomicLong postsSent = new AtomicLong();
        Thread poster = new Thread(() -> {
            int i = 100;
            while (posting.get()) {
                try {
                    postsSent.incrementAndGet();
                    acknowledgedDuringRound.addAndGet(postSamples(5, i++));
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
        JsonPath interrupted = round(doomed);
        assertThat(interrupted.getString("state")).isEqualTo("failed");
        assertThat(interrupted.getString("cause")).isEqualTo("process stopped during the round");
        assertThat(interrupted.getString("finished_at")).isNotNull();
        long next = startRound("{\"epochs\":1,\"batch_size\":32,\"learning_rate\":0.01}");
        assertThat(next).isGreaterThan(doomed);
        await().atMost(ROUND).until(() -> isFinal(round(next).getString("state")));
    }

    private int activeVersion() {
        return given().port(port).get("/v1/models/default/versions").then().statusCode(200)
                .extract().jsonPath().getInt("active");
    }

    private long postSamples(int n, long seed) {
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

    private long startRound(String body) {
        return given().port(port).contentType(ContentType.JSON).body(body).post("/v1/models/default/rounds")
                .then().statusCode(202).extract().jsonPath().getLong("id");
    }

    private JsonPath round(long id) {
        return given().port(port).get("/v1/models/default/rounds/" + id).then().statusCode(200).extract().jsonPath();
    }

    private static boolean isFinal(String state) {
        return !"queued".equals(state) && !"running".equals(state);
    }
}

package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;

import io.microkernel.demo.ShapeClassifier;
import io.microkernel.demo.ShapeImages;
import io.microkernel.demo.ShapeImages.Batch;
import io.microkernel.demo.ShapeImages.Domain;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The loop closed over HTTP on {@code models/default}, as README's "Closing the loop" walks it:
 * source-style traffic shows no drift; target-style traffic drives the drift index past the
 * threshold without starting a round; labels posted by prediction id alone become samples, and with
 * enough of them the drift trigger starts a round, which the reference guard lets through because
 * reference replay kept the source style; the promoted version is far better on the target style.
 * The tests run in order and share the server's state.
 */
@QuarkusTest
@TestProfile(ClosingTheLoopTest.Loop.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClosingTheLoopTest {

    private static final int PER_REQUEST = 50;
    private static final int LABELLED = 600;
    private static final String INFER = "/v2/models/default/infer";
    private static final String STATUS = "/v1/models/default";

    /** The default model in an empty data dir, with the prediction log, the drift watch and its trigger on. */
    public static class Loop implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(LoopResource.class));
        }
    }

    public static class LoopResource implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                Path data = Files.createTempDirectory("microkernel-loop");
                return Map.ofEntries(Map.entry("microkernel.data-dir", data.toString()),
                        Map.entry("microkernel.model.artifacts", Path.of("models", "default").toAbsolutePath().toString()),
                        Map.entry("microkernel.training.threads", "2"),
                        Map.entry("microkernel.training.epochs", "10"),
                        Map.entry("microkernel.feedback.enabled", "true"),
                        Map.entry("microkernel.drift.enabled", "true"),
                        Map.entry("microkernel.drift.window", "300"),
                        Map.entry("microkernel.drift.min-rows", "100"),
                        Map.entry("microkernel.drift.trigger", "true"),
                        Map.entry("microkernel.drift.min-new-samples", "400"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void stop() {
        }
    }

    private static final Batch TARGET = ShapeImages.generate(Domain.TARGET, LABELLED, 15_001);
    private static final Batch HELD_OUT = ShapeImages.generate(Domain.TARGET, 400, 15_002);
    private static double accuracyBefore;

    @Test
    @Order(1)
    void sourceStyleTrafficShowsNoDrift() {
        infer(ShapeImages.generate(Domain.SOURCE, PER_REQUEST, 15_003), 0, PER_REQUEST, "warm-up");
        // The baseline (the reference set, classified by version 1) is built off the request thread.
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get(STATUS).then().extract().jsonPath()
                .get("drift.baseline_version") != null);
        Batch source = ShapeImages.generate(Domain.SOURCE, 200, 15_004);
        for (int from = 0; from < source.size(); from += PER_REQUEST) {
            infer(source, from, from + PER_REQUEST, "source-" + from);
        }
        JsonPath drift = given().get(STATUS).then().statusCode(200).extract().jsonPath();
        assertThat(drift.getInt("drift.baseline_rows")).as(drift.prettify()).isEqualTo(120);
        assertThat(drift.getLong("drift.served_rows")).isEqualTo(200);
        assertThat(drift.getDouble("drift.psi")).as(drift.prettify()).isLessThan(drift.getDouble("drift.threshold"));
        assertThat(drift.getBoolean("drift.drifted")).isFalse();
        accuracyBefore = heldOutAccuracy(1);
        assertThat(accuracyBefore).as("version 1 on the target style").isLessThan(0.5);
    }

    @Test
    @Order(2)
    void targetStyleTrafficDriftsPastTheThresholdButStartsNoRoundWithoutLabels() {
        for (int from = 0; from < LABELLED; from += PER_REQUEST) {
            infer(TARGET, from, from + PER_REQUEST, "target-" + from);
        }
        JsonPath drift = given().get(STATUS).then().statusCode(200).extract().jsonPath();
        assertThat(drift.getLong("drift.served_rows")).isEqualTo(300);
        assertThat(drift.getDouble("drift.psi")).as(drift.prettify()).isGreaterThan(drift.getDouble("drift.threshold"));
        assertThat(drift.getBoolean("drift.drifted")).isTrue();
        assertThat(drift.getDouble("drift.inputs." + ShapeClassifier.INPUT)).isGreaterThan(drift.getDouble("drift.threshold"));
        given().get("/v1/models/default/rounds").then().statusCode(200).body("rounds", hasSize(0));
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).containsPattern("microkernel_drift_psi\\{model=\"default\"\\} [0-9.]+");
    }

    @Test
    @Order(3)
    void labelsByPredictionIdStartADriftRoundThatPromotesABetterVersion() {
        // One more prediction over TF Serving's v1 API: its answer carries the id feedback needs too.
        String v1Id = given().contentType(ContentType.JSON)
                .body("{\"instances\":[" + DefaultModelJson.nested(HELD_OUT.instance(0)) + "]}")
                .post("/v1/models/default:predict").then().statusCode(200).body("id", notNullValue())
                .extract().path("id");
        List<String> items = new ArrayList<>();
        for (int i = 0; i < LABELLED; i++) {
            int from = i / PER_REQUEST * PER_REQUEST;
            items.add("{\"id\":\"target-" + from + "\",\"row\":" + (i - from) + ",\"label\":\"" + TARGET.className(i) + "\"}");
        }
        items.add("{\"id\":\"" + v1Id + "\",\"label\":\"" + HELD_OUT.className(0) + "\"}");
        items.add("{\"id\":\"never-served\",\"label\":\"circle\"}");
        JsonPath answer = given().contentType(ContentType.JSON).body("[" + String.join(",", items) + "]")
                .post("/v1/models/default/feedback").then().statusCode(202).extract().jsonPath();
        assertThat(answer.getInt("accepted")).isEqualTo(LABELLED + 1);
        assertThat(answer.getList("refused.id")).containsExactly("never-served");
        assertThat(answer.getString("refused[0].error")).contains("unknown or expired prediction id 'never-served'");
        Long roundId = answer.getLong("round_started");
        assertThat(roundId).as(answer.prettify()).isNotNull();

        // The labels say how version 1 did on what it served.
        JsonPath feedback = given().get("/v1/models/default/feedback").then().statusCode(200).extract().jsonPath();
        assertThat(feedback.getLong("accuracy.1.labelled")).isEqualTo(LABELLED + 1);
        assertThat(feedback.getDouble("accuracy.1.accuracy")).isLessThan(0.5);

        String location = "/v1/models/default/rounds/" + roundId;
        await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(1)).until(() ->
                !List.of("queued", "running").contains(given().get(location).then().extract().jsonPath().getString("state")));
        JsonPath round = given().get(location).then().statusCode(200).extract().jsonPath();
        assertThat(round.getString("state")).as(round.prettify()).isEqualTo("promoted");
        assertThat(round.getString("trigger")).matches("drift psi=[0-9.]+ threshold=0\\.2500");
        assertThat(round.getInt("samples.feedback")).isEqualTo(round.getInt("samples.train")).isPositive();
        assertThat(round.getBoolean("decision.reference.passed")).isTrue();
        assertThat(round.getInt("decision.reference.samples")).isEqualTo(120);
        assertThat(round.getDouble("decision.reference.candidate_accuracy")).isGreaterThan(0.9);
        int promoted = round.getInt("promoted_version");
        double after = heldOutAccuracy(promoted);
        System.out.printf("closing the loop: version 1 %.3f, version %d %.3f on held-out target images; reference %s%n",
                accuracyBefore, promoted, after, round.getString("decision.reason"));
        assertThat(after).as("after the drift round (before: %.3f)", accuracyBefore).isGreaterThan(accuracyBefore + 0.4);
    }

    @Test
    @Order(4)
    void theNewVersionsBaselineIsWhatItLearnedSoTargetTrafficNoLongerDrifts() {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            infer(HELD_OUT, 0, PER_REQUEST, "after-0");
            return given().get(STATUS).then().extract().jsonPath().getInt("drift.baseline_version") == 2;
        });
        for (int from = 0; from < 300; from += PER_REQUEST) {
            infer(HELD_OUT, from, from + PER_REQUEST, "after-" + from);
        }
        JsonPath drift = given().get(STATUS).then().statusCode(200).extract().jsonPath();
        assertThat(drift.getDouble("drift.psi")).as(drift.prettify()).isLessThan(drift.getDouble("drift.threshold"));
    }

    @Test
    @Order(5)
    void operatorsSeeAndReplaceTheReferenceSet() {
        given().get("/v1/models/default/reference").then().statusCode(200).body("source", equalTo("artifact set"))
                .body("samples", equalTo(120)).body("per_label.circle", equalTo(20));
        Batch uploaded = ShapeImages.generate(Domain.SOURCE, 12, 15_005);
        given().contentType(ContentType.JSON).body(DefaultModelJson.samples(uploaded, 0, 12))
                .put("/v1/models/default/reference").then().statusCode(200).body("source", equalTo("uploaded"))
                .body("samples", equalTo(12));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,2],\"label\":\"circle\"}]}")
                .put("/v1/models/default/reference").then().statusCode(400);
        given().get("/v1/models/default/reference").then().statusCode(200).body("samples", equalTo(12));
    }

    private static void infer(Batch batch, int from, int to, String id) {
        String body = "{\"id\":\"" + id + "\",\"inputs\":[{\"name\":\"" + ShapeClassifier.INPUT + "\",\"shape\":[" + (to - from) + ",1,"
                + ShapeImages.SIZE + "," + ShapeImages.SIZE + "],\"datatype\":\"FP32\",\"data\":"
                + DefaultModelJson.floats(batch.flatten(from, to)) + "}]}";
        given().contentType(ContentType.JSON).body(body).post(INFER).then().statusCode(200).body("id", equalTo(id));
    }

    private static double heldOutAccuracy(int version) {
        int correct = 0;
        for (int from = 0; from < HELD_OUT.size(); from += 200) {
            int to = Math.min(HELD_OUT.size(), from + 200);
            String body = "{\"inputs\":[{\"name\":\"" + ShapeClassifier.INPUT + "\",\"shape\":[" + (to - from) + ",1,16,16],\"datatype\":\"FP32\","
                    + "\"data\":" + DefaultModelJson.floats(HELD_OUT.flatten(from, to)) + "}]}";
            List<String> predicted = given().contentType(ContentType.JSON).body(body)
                    .post("/v2/models/default/versions/" + version + "/infer").then().statusCode(200)
                    .extract().jsonPath().getList("outputs.find { it.name == 'predicted_class' }.data", String.class);
            for (int i = from; i < to; i++) {
                if (predicted.get(i - from).equals(HELD_OUT.className(i))) {
                    correct++;
                }
            }
        }
        return (double) correct / HELD_OUT.size();
    }
}

package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

import io.microkernel.testing.TinyModels;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The HTTP contract of samples and rounds on a tiny classifier bootstrapped into an empty data dir. */
@QuarkusTest
@TestProfile(TrainingProfiles.Open.class)
class TrainingApiTest {

    private static final List<String> CLASSES = List.of("a", "b", "c");

    /** Labelled rows; even rows name their class, odd rows give its index, so both forms are exercised. */
    static String samplesJson(int n, long seed) {
        float[][] x = TinyModels.dataset(n, 4, seed);
        long[] y = TinyModels.labels(x);
        List<String> samples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String label = i % 2 == 0 ? "\"" + CLASSES.get((int) y[i]) + "\"" : Long.toString(y[i]);
            samples.add(String.format(Locale.ROOT, "{\"input\":[%s,%s,%s,%s],\"label\":%s}",
                    x[i][0], x[i][1], x[i][2], x[i][3], label));
        }
        return "{\"samples\":[" + String.join(",", samples) + "]}";
    }

    private static long total() {
        return given().get("/v1/models/default/samples").then().statusCode(200).extract().jsonPath().getLong("total");
    }

    /** The value of {@code microkernel_training_samples_buffered} in {@code /q/metrics}. */
    private static double bufferedGauge() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher line = Pattern.compile("(?m)^microkernel_training_samples_buffered\\{[^}]*\\} (\\S+)$").matcher(metrics);
        assertThat(line.find()).as("microkernel_training_samples_buffered in /q/metrics").isTrue();
        return Double.parseDouble(line.group(1));
    }

    /** Issue 10, defect 8: a retry with the same Idempotency-Key is answered as the first was, and stored once. */
    @Test
    void aRetryWithTheSameIdempotencyKeyIsAnsweredAsTheFirstAndStoredOnce() {
        String body = samplesJson(5, 77);
        long before = total();
        List<Long> first = given().contentType(ContentType.JSON).header("Idempotency-Key", "retry-me-1").body(body)
                .post("/v1/models/default/samples").then().statusCode(202).header("Idempotent-Replayed", (String) null)
                .extract().jsonPath().getList("ids", Long.class);
        List<Long> retried = given().contentType(ContentType.JSON).header("Idempotency-Key", "retry-me-1").body(body)
                .post("/v1/models/default/samples").then().statusCode(202).header("Idempotent-Replayed", "true")
                .body("accepted", equalTo(5)).extract().jsonPath().getList("ids", Long.class);
        assertThat(retried).hasSize(5).isEqualTo(first);
        assertThat(total()).isEqualTo(before + 5);
        given().contentType(ContentType.JSON).header("Idempotency-Key", "retry-me-1").body(samplesJson(5, 78))
                .post("/v1/models/default/samples").then().statusCode(422)
                .contentType("application/problem+json").body("detail", containsString("Idempotency-Key 'retry-me-1'"));
        given().contentType(ContentType.JSON).header("Idempotency-Key", "x".repeat(256)).body(body)
                .post("/v1/models/default/samples").then().statusCode(400)
                .body("detail", equalTo("Idempotency-Key: expected 1 to 255 visible ASCII characters, found 256 characters"));
        assertThat(total()).isEqualTo(before + 5);
    }

    @Test
    void samplesAreAcknowledgedWithIdsAndCounted() {
        long before = total();
        JsonPath accepted = given().contentType(ContentType.JSON).body(samplesJson(30, 1))
                .when().post("/v1/models/default/samples")
                .then().statusCode(202)
                .body("accepted", equalTo(30))
                .body("ids", hasSize(30))
                .body("buffer.total", equalTo((int) before + 30))
                .extract().jsonPath();
        List<Long> ids = accepted.getList("ids", Long.class);
        assertThat(ids).isSorted().doesNotHaveDuplicates();
        // Micrometer holds a gauge's state weakly: after a collection a gauge nobody else holds reads NaN.
        System.gc();
        assertThat(bufferedGauge()).isEqualTo((double) total());

        JsonPath stats = given().get("/v1/models/default/samples").then().statusCode(200)
                .body("total", equalTo((int) before + 30)).extract().jsonPath();
        assertThat(stats.getLong("train") + stats.getLong("holdout")).isEqualTo(stats.getLong("total"));
        assertThat(stats.getMap("per_label", String.class, Long.class).keySet()).isSubsetOf(CLASSES);
        assertThat(stats.getMap("per_label", String.class, Long.class).values().stream().mapToLong(Long::longValue).sum())
                .isEqualTo(stats.getLong("total"));
    }

    @Test
    void aSampleThatDoesNotFitIsA400ProblemAndNothingIsStored() {
        long before = total();
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,2,3],\"label\":\"a\"}]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("expected shape [4], found [3]"));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,2,3,4],\"label\":\"zebra\"}]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", equalTo("sample 0 label: expected a class name of [a, b, c] or a class index in [0, 3), found \"zebra\""));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,2,3,4],\"label\":\"a\"},{\"input\":[1,2,3,4],\"label\":3}]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).body("detail", containsString("sample 1 label"))
                .body("detail", containsString("found 3"));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,2,3,4]}]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).body("detail", containsString("found none"));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,\"x\",3,4],\"label\":0}]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).body("detail", containsString("expected a FP32 number"));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,NaN,3,4],\"label\":0}]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).body("detail", containsString("expected a finite FP32 value"));
        given().contentType(ContentType.JSON).body("{\"samples\":[]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).body("detail", equalTo("expected at least 1 sample, found 0"));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,2,3,4],\"inputs\":{},\"label\":0}]}")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).body("detail", containsString("found both"));
        given().contentType(ContentType.JSON).body("{\"samples\":[{\"input\":[1,2,3,4],\"label\":0}]}")
                .when().post("/v1/models/nope/samples")
                .then().statusCode(404);
        assertThat(total()).isEqualTo(before);
    }

    @Test
    void aRoundPromotesANewVersionThatServesAndTheHistoryExplainsIt() {
        awaitNoRunningRound();
        // Two requests: one may carry at most microkernel.serving.max-batch (256) samples.
        given().contentType(ContentType.JSON).body(samplesJson(200, 2)).post("/v1/models/default/samples")
                .then().statusCode(202);
        given().contentType(ContentType.JSON).body(samplesJson(200, 5)).post("/v1/models/default/samples")
                .then().statusCode(202);
        int activeBefore = given().get("/v1/models/default/versions").then().extract().jsonPath().getInt("active");

        String location = given().contentType(ContentType.JSON)
                .body("{\"epochs\":8,\"batch_size\":32,\"learning_rate\":0.05,\"seed\":3}")
                .when().post("/v1/models/default/rounds")
                .then().statusCode(202)
                .body("state", equalTo("queued"))
                .body("settings.epochs", equalTo(8))
                .body("seed", equalTo(3))
                .extract().header("Location");
        long id = given().get(location).then().statusCode(200).extract().jsonPath().getLong("id");

        await().atMost(Duration.ofMinutes(3)).until(() ->
                !List.of("queued", "running").contains(given().get(location).then().extract().jsonPath().getString("state")));

        JsonPath round = given().get(location).then().statusCode(200)
                .body("state", equalTo("promoted"))
                .extract().jsonPath();
        assertThat(round.getInt("base_version")).isEqualTo(activeBefore);
        assertThat(round.getString("decision.reason")).startsWith("promoted: accuracy");
        assertThat(round.getDouble("candidate_metrics.accuracy")).isGreaterThan(round.getDouble("active_metrics.accuracy"));
        int promoted = round.getInt("promoted_version");

        given().get("/v1/models/default/versions").then().statusCode(200).body("active", equalTo(promoted));
        given().get("/v1/models/default/versions/" + promoted).then().statusCode(200)
                .body(containsString("\"" + id + "\""));
        given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,0,0,0]}]}")
                .post("/v2/models/default/infer").then().statusCode(200)
                .body("model_version", equalTo(Integer.toString(promoted)));
        given().get("/v1/models/default/rounds").then().statusCode(200)
                .body("rounds.find { it.id == " + id + " }.state", equalTo("promoted"));

        // The event stream of a finished round is its final record, and then it ends.
        String events = given().accept("text/event-stream").get(location + "/events").then().statusCode(200)
                .extract().asString();
        assertThat(events).contains("data:").contains("\"promoted\"");
        // Cancelling a finished round is a conflict.
        given().delete(location).then().statusCode(409).body("detail", containsString("already finished"));
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("microkernel_training_rounds_total"))
                .body(containsString("outcome=\"promoted\""))
                .body(containsString("microkernel_training_samples_buffered"));
    }

    @Test
    void aSecondRoundWhileOneRunsIsA409NamingItAndDeleteCancelsTheRunningOne() {
        given().contentType(ContentType.JSON).body(samplesJson(100, 7)).post("/v1/models/default/samples")
                .then().statusCode(202);
        awaitNoRunningRound();
        int activeBefore = given().get("/v1/models/default/versions").then().extract().jsonPath().getInt("active");
        String location = given().contentType(ContentType.JSON).body("{\"epochs\":10000,\"batch_size\":4}")
                .post("/v1/models/default/rounds").then().statusCode(202).extract().header("Location");
        long id = given().get(location).then().extract().jsonPath().getLong("id");

        given().contentType(ContentType.JSON).body("{}").when().post("/v1/models/default/rounds")
                .then().statusCode(409).contentType("application/problem+json")
                .body("detail", containsString("round " + id));
        given().get("/v1/models/default/rounds").then().body("running", equalTo((int) id));

        given().delete(location).then().statusCode(202).body("id", equalTo((int) id));
        await().atMost(Duration.ofMinutes(3)).until(() -> "cancelled".equals(
                given().get(location).then().extract().jsonPath().getString("state")));
        given().get(location).then().body("cause", equalTo("cancelled on request"));
        given().get("/v1/models/default/versions").then().body("active", equalTo(activeBefore));
    }

    /** The history comes a page at a time, oldest first, each page naming the next (issue 10, defect 7). */
    @Test
    void theRoundHistoryComesAPageAtATimeOldestFirst() {
        for (int i = 0; i < 2; i++) {
            given().contentType(ContentType.JSON).body(samplesJson(100, 20 + i)).post("/v1/models/default/samples")
                    .then().statusCode(202);
            awaitNoRunningRound();
            String location = given().contentType(ContentType.JSON).body("{\"epochs\":10000,\"batch_size\":4}")
                    .post("/v1/models/default/rounds").then().statusCode(202).extract().header("Location");
            given().delete(location).then().statusCode(202);
        }
        awaitNoRunningRound();
        List<Long> all = given().get("/v1/models/default/rounds?limit=1000").then().statusCode(200)
                .body("next", nullValue()).extract().jsonPath().getList("rounds.id", Long.class);
        assertThat(all).hasSizeGreaterThanOrEqualTo(2).isSorted().doesNotHaveDuplicates();

        List<Long> paged = new ArrayList<>();
        String query = "limit=1";
        for (int page = 0; page < all.size(); page++) {
            JsonPath answer = given().get("/v1/models/default/rounds?" + query).then().statusCode(200).extract().jsonPath();
            List<Long> ids = answer.getList("rounds.id", Long.class);
            assertThat(ids).as("page %d", page).hasSize(1);
            paged.addAll(ids);
            Object next = answer.get("next");
            if (page < all.size() - 1) {
                assertThat(next).as("next of page %d", page).isNotNull();
                assertThat(answer.getLong("next")).isEqualTo(ids.get(0));
                query = "limit=1&after=" + next;
            } else {
                assertThat(next).as("the last page names no next").isNull();
            }
        }
        assertThat(paged).isEqualTo(all);
    }

    private static void awaitNoRunningRound() {
        await().atMost(Duration.ofMinutes(3)).until(() -> given().get("/v1/models/default/rounds").then()
                .extract().jsonPath().get("running") == null);
    }

    @Test
    void theEventStreamFollowsARunningRoundToItsEnd() {
        given().contentType(ContentType.JSON).body(samplesJson(200, 4)).post("/v1/models/default/samples")
                .then().statusCode(202);
        awaitNoRunningRound();
        String location = given().contentType(ContentType.JSON).body("{\"epochs\":30,\"batch_size\":8}")
                .post("/v1/models/default/rounds").then().statusCode(202).extract().header("Location");
        String events = given().accept("text/event-stream").get(location + "/events").then().statusCode(200)
                .extract().asString();
        assertThat(events).contains("\"running\"").contains("\"training\"");
        assertThat(events.lines().filter(l -> l.startsWith("data:")).count()).isGreaterThan(2);
        String last = events.lines().filter(l -> l.startsWith("data:")).reduce((a, b) -> b).orElseThrow();
        assertThat(last).containsAnyOf("\"promoted\"", "\"rejected\"");
    }

    @Test
    void aRequestOverTheBatchLimitIsA400() {
        given().contentType(ContentType.JSON).body(samplesJson(257, 6)).post("/v1/models/default/samples")
                .then().statusCode(400).body("detail", containsString("expected at most 256 instances"));
    }

    @Test
    void unknownRoundsAndBadOverridesAreAnswered() {
        given().get("/v1/models/default/rounds/999999").then().statusCode(404).contentType("application/problem+json");
        given().get("/v1/models/default/rounds/abc").then().statusCode(404);
        given().delete("/v1/models/default/rounds/999999").then().statusCode(404);
        given().contentType(ContentType.JSON).body("{\"learning_rate\":-1}").post("/v1/models/default/rounds")
                .then().statusCode(400).body("detail", containsString("learning_rate must be a finite number above 0, found -1.0"));
        given().contentType(ContentType.JSON).body("{\"epochs\":0}").post("/v1/models/default/rounds")
                .then().statusCode(400).body("detail", containsString("epochs must be in [1, 10000], found 0"));
        given().contentType(ContentType.JSON).body("{\"epochs\":\"many\"}").post("/v1/models/default/rounds")
                .then().statusCode(400);
        // The history comes a page at a time (issue 10, defect 7).
        given().get("/v1/models/default/rounds?limit=0").then().statusCode(400)
                .body("detail", equalTo("limit: expected a whole number in [1, 1000], found '0'"));
        given().get("/v1/models/default/rounds?after=x").then().statusCode(400)
                .body("detail", containsString("after: expected a whole number"));
        // Counts are whole numbers: 1.5 epochs is refused, never truncated to 1 (issue 10, defect 7).
        given().contentType(ContentType.JSON).body("{\"epochs\":1.5}").post("/v1/models/default/rounds")
                .then().statusCode(400).body("detail", equalTo("epochs: expected a whole number, found 1.5"));
        given().contentType(ContentType.JSON).body("{\"batch_size\":1e10}").post("/v1/models/default/rounds")
                .then().statusCode(400).body("detail", containsString("batch_size: expected a whole number"));
        given().contentType(ContentType.JSON).body("{\"seed\":0.25}").post("/v1/models/default/rounds")
                .then().statusCode(400).body("detail", equalTo("seed: expected a whole number, found 0.25"));
    }

    @Test
    void feedbackNeedsThePredictionLogAndAPredictAnswerCarriesAnId() {
        String id = given().contentType(ContentType.JSON).body("{\"instances\":[[1,2,3,4]]}")
                .post("/v1/models/default:predict").then().statusCode(200).extract().path("id");
        assertThat(id).matches("[0-9a-f-]{36}");
        given().contentType(ContentType.JSON).body("[{\"id\":\"" + id + "\",\"label\":\"a\"}]")
                .post("/v1/models/default/feedback").then().statusCode(409)
                .body("type", equalTo("urn:microkernel:problem:feedback-disabled"))
                .body("detail", containsString("expected microkernel.feedback.enabled=true, found false"));
        given().get("/v1/models/default/feedback").then().statusCode(200).body("enabled", equalTo(false));
        given().get("/v1/models/default").then().statusCode(200).body("$", org.hamcrest.Matchers.not(
                org.hamcrest.Matchers.hasKey("drift")));
        given().get("/v1/models/default/reference").then().statusCode(404);
    }
}

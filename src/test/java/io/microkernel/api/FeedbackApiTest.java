package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/models/{m}/feedback} over HTTP on the tiny classifier with the prediction log on:
 * a label by prediction id becomes a sample through the same validation and Idempotency-Key as
 * {@code /samples}; items that do not resolve (a label outside the classes, a missing or
 * out-of-range row, an id never served) are refused one by one while the rest are stored; a request
 * with nothing to store is a 400; the served version's hits are the live-accuracy metrics.
 */
@QuarkusTest
@TestProfile(FeedbackApiTest.LogOn.class)
class FeedbackApiTest {

    private static final String FEEDBACK = "/v1/models/default/feedback";

    /** The tiny classifier with the prediction log on, every request logged. */
    public static class LogOn implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TinyClassifierResource.class, Map.of("microkernel.feedback.enabled", "true")));
        }
    }

    @Test
    void labelsByIdAreStoredOnceRefusedPerItemAndCountedAsTheServedVersionsAccuracy() {
        List<String> predicted = given().contentType(ContentType.JSON)
                .body("{\"id\":\"fb-1\",\"inputs\":[{\"name\":\"input\",\"shape\":[2,4],\"datatype\":\"FP32\","
                        + "\"data\":[1,2,3,4,5,6,7,8]}]}")
                .post("/v2/models/default/infer").then().statusCode(200).body("id", equalTo("fb-1"))
                .extract().jsonPath().getList("outputs.find { it.name == 'predicted_class' }.data", String.class);
        assertThat(predicted).hasSize(2);
        long before = total();

        String body = "[{\"id\":\"fb-1\",\"row\":0,\"label\":\"" + predicted.get(0) + "\"},"
                + "{\"id\":\"fb-1\",\"row\":1,\"label\":\"zebra\"},"
                + "{\"id\":\"fb-1\",\"label\":\"a\"},"
                + "{\"id\":\"fb-1\",\"row\":2,\"label\":\"a\"},"
                + "{\"id\":\"never-served\",\"label\":\"a\"}]";
        JsonPath first = given().contentType(ContentType.JSON).header("Idempotency-Key", "fb-key-1").body(body)
                .post(FEEDBACK).then().statusCode(202).header("Idempotent-Replayed", (String) null)
                .body("accepted", equalTo(1)).extract().jsonPath();
        assertThat(first.getList("refused.index", Integer.class)).containsExactly(1, 2, 3, 4);
        assertThat(first.getString("refused[0].error")).contains("expected", "found \"zebra\"");
        assertThat(first.getString("refused[1].error")).contains("had 2 rows", "found none");
        assertThat(first.getString("refused[2].error")).contains("expected 'row' in [0, 2)", "found 2");
        assertThat(first.getString("refused[3].error")).contains("unknown or expired prediction id 'never-served'");
        assertThat(total()).isEqualTo(before + 1);

        // A retry with the same key is answered as the first was, and neither stored nor counted twice.
        JsonPath retried = given().contentType(ContentType.JSON).header("Idempotency-Key", "fb-key-1").body(body)
                .post(FEEDBACK).then().statusCode(202).header("Idempotent-Replayed", "true")
                .body("accepted", equalTo(1)).extract().jsonPath();
        assertThat(retried.getList("ids", Long.class)).isEqualTo(first.getList("ids", Long.class));
        assertThat(total()).isEqualTo(before + 1);

        // Nothing to store: 400, saying why.
        given().contentType(ContentType.JSON).body("[{\"id\":\"never-served\",\"label\":\"a\"}]").post(FEEDBACK)
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("unknown or expired prediction id 'never-served'"));
        assertThat(total()).isEqualTo(before + 1);

        // The label matched what version 1 served: its live accuracy is 1 of 1.
        given().get(FEEDBACK).then().statusCode(200).body("enabled", equalTo(true))
                .body("accuracy.1.labelled", equalTo(1)).body("accuracy.1.correct", equalTo(1));
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).containsPattern("microkernel_feedback_labels_total\\{correct=\"true\",model=\"default\","
                + "version=\"1\"} 1\\.0")
                .containsPattern("microkernel_feedback_accuracy\\{model=\"default\",version=\"1\"} 1\\.0");
    }

    private static long total() {
        return given().get("/v1/models/default/samples").then().statusCode(200).extract().jsonPath().getLong("total");
    }
}

package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.TWO_ROWS;
import static io.microkernel.api.InferenceApiTest.expectError;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link SwapUnderLoadApiTest} with dynamic batching on and one run slot, so concurrent OIP v2
 * requests queue, are gathered and are answered from the thread that ran their batch: no request
 * fails across swaps and each answer names the version that computed it. Bad input still answers
 * 400, and the sizes of the gathered runs are a Prometheus histogram.
 */
@QuarkusTest
@TestProfile(BatchingSwapUnderLoadApiTest.Batching.class)
class BatchingSwapUnderLoadApiTest extends SwapUnderLoadApiTest {

    /** The store profile with batching on and a single run slot. */
    public static class Batching extends StoreProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("microkernel.serving.batching.enabled", "true",
                    "microkernel.serving.batching.concurrent-runs", "1");
        }
    }

    @Test
    void requestsGoThroughTheBatcherAndBadInputIsStill400() {
        given().contentType(ContentType.JSON).body(TWO_ROWS).post("/v2/models/default/infer")
                .then().statusCode(200).body("id", equalTo("req-1"));

        expectError(given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}")
                .post("/v2/models/default/infer"), 400, "expected shape [-1,4], found [1,3]");
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        double runs = metrics.lines().filter(line -> line.startsWith("microkernel_inference_batch_requests_count"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
        assertThat(runs).as("runs of the dynamic batcher").isPositive();
        assertThat(metrics.lines().filter(line -> line.startsWith("microkernel_inference_batch_requests_bucket")))
                .as("histogram buckets of the requests per run").anyMatch(line -> line.contains("le=\"1.0\""))
                .anyMatch(line -> line.contains("le=\"8.0\"")).anyMatch(line -> line.contains("le=\"+Inf\""));
    }
}

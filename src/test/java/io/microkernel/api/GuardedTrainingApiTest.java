package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

/** The token rule on the training endpoints, and the full-buffer answer, with loopback not trusted. */
@QuarkusTest
@TestProfile(TrainingProfiles.Guarded.class)
class GuardedTrainingApiTest {

    private static final String BEARER = "Bearer " + TrainingProfiles.Guarded.TOKEN;

    @Test
    void mutatingTrainingEndpointsNeedTheTokenWhileReadsDoNot() {
        given().contentType(ContentType.JSON).body(TrainingApiTest.samplesJson(1, 1))
                .post("/v1/models/default/samples").then().statusCode(401).contentType("application/problem+json");
        given().contentType(ContentType.JSON).header("Authorization", "Bearer wrong").body(TrainingApiTest.samplesJson(1, 1))
                .post("/v1/models/default/samples").then().statusCode(401);
        given().contentType(ContentType.JSON).body("{}").post("/v1/models/default/rounds").then().statusCode(401);
        given().delete("/v1/models/default/rounds/1").then().statusCode(401);
        given().get("/v1/models/default/samples").then().statusCode(200);
        given().get("/v1/models/default/rounds").then().statusCode(200);
    }

    @Test
    void aFullBufferIsA429WithRetryAfterAndKeepsWhatItHas() {
        long before = given().get("/v1/models/default/samples").then().extract().jsonPath().getLong("total");
        int room = (int) (10 - before);
        if (room > 0) {
            given().contentType(ContentType.JSON).header("Authorization", BEARER)
                    .body(TrainingApiTest.samplesJson(room, 2)).post("/v1/models/default/samples")
                    .then().statusCode(202).body("buffer.total", equalTo(10));
        }
        given().contentType(ContentType.JSON).header("Authorization", BEARER)
                .body(TrainingApiTest.samplesJson(1, 3)).post("/v1/models/default/samples")
                .then().statusCode(429).contentType("application/problem+json")
                .header("Retry-After", "45")
                .body("detail", containsString("holds 10 of 10"));
        given().get("/v1/models/default/samples").then().body("total", equalTo(10));
        given().get("/q/metrics").then().body(containsString("microkernel_training_samples_rejected_total"))
                .body(containsString("reason=\"buffer-full\""));
    }
}

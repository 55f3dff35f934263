package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.TWO_ROWS;
import static io.microkernel.api.InferenceApiTest.expectError;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

@QuarkusTest
@TestProfile(NotReadyProfile.class)
class NotReadyApiTest {

    @Test
    void requestsBeforeAnyModelIsLoadedGet503AndReadinessIsDown() {
        expectError(given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer"),
                503, "expected a loaded version, found none");
        given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer").then().header("Retry-After", equalTo("5"));
        expectError(given().contentType(ContentType.JSON).body("{\"instances\":[[1,2,3,4]]}").when().post("/v1/models/default:predict"),
                503, "not ready");
        expectError(given().when().get("/v2/models/default"), 503, "not ready");
        given().when().get("/v2/models/default/ready").then().statusCode(503).body("ready", equalTo(false));
        given().when().get("/v2/health/ready").then().statusCode(503);
        given().when().get("/q/health/ready").then().statusCode(503).body("status", equalTo("DOWN"));
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/v2/health/live").then().statusCode(200);
    }
}

package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.TWO_ROWS;
import static io.microkernel.api.InferenceApiTest.expectError;
import static io.microkernel.api.InferenceApiTest.expectProblem;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

/** The token rule over real HTTP, in the profile (and the Quarkus boot) of {@link GuardedTrainingApiTest}. */
@QuarkusTest
@TestProfile(TrainingProfiles.Guarded.class)
class TokenRuleApiTest {

    private static final String BEARER = "Bearer " + TrainingProfiles.Guarded.TOKEN;

    @Test
    void activateNeedsTheToken() {
        expectProblem(given().when().post("/v1/models/default/versions/1:activate"), 401, "found no Authorization header");
        given().when().post("/v1/models/default/versions/1:activate").then().header("WWW-Authenticate", equalTo("Bearer realm=\"onnx-microkernel\""));
        expectProblem(given().header("Authorization", "Bearer nope").when().post("/v1/models/default/versions/1:activate"),
                401, "found a different one");
        given().when().get("/v1/models/default/versions").then().statusCode(200).body("active", equalTo(1));

        given().header("Authorization", BEARER).when().post("/v1/models/default/versions/1:activate")
                .then().statusCode(200).body("active", equalTo(1));
        expectProblem(given().header("Authorization", BEARER).when().post("/v1/models/default/versions/9:activate"),
                404, "9");
    }

    @Test
    void protectedInferenceNeedsTheTokenButMetadataDoesNot() {
        expectError(given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer"), 401, "Bearer");
        expectError(given().contentType(ContentType.JSON).body("{\"instances\":[[1,2,3,4]]}").when().post("/v1/models/default:predict"),
                401, "Bearer");
        given().header("Authorization", BEARER).contentType(ContentType.JSON).body(TWO_ROWS)
                .when().post("/v2/models/default/infer").then().statusCode(200).body("model_version", equalTo("1"));
        given().when().get("/v2/models/default").then().statusCode(200);
        given().when().get("/v2/health/ready").then().statusCode(200);
    }
}

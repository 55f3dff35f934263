package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

/**
 * What the console is told about the token rule when loopback is not trusted (the profile of
 * {@link GuardedTrainingApiTest}): the same verdict and reason the mutating endpoints give.
 */
@QuarkusTest
@TestProfile(TrainingProfiles.Guarded.class)
class ConsoleAccessApiTest {

    @Test
    void withoutTheTokenTheConsoleIsToldWhyItMayNotChangeState() {
        given().get("/console/api/access").then().statusCode(200)
                .body("allowed", equalTo(false))
                .body("token_accepted", equalTo(true))
                .body("reason", containsString("expected 'Authorization: Bearer <token>'"))
                .body("reason", containsString("found no Authorization header"));
        // The endpoint it stands for answers the same.
        given().post("/v1/models/default/versions/1:activate").then().statusCode(401)
                .body("detail", containsString("found no Authorization header"));
    }

    @Test
    void aWrongTokenIsRefusedAndTheRightOneAllowed() {
        given().header("Authorization", "Bearer nope").get("/console/api/access").then()
                .body("allowed", equalTo(false)).body("reason", containsString("found a different one"));
        given().header("Authorization", "Bearer " + TrainingProfiles.Guarded.TOKEN).get("/console/api/access").then()
                .body("allowed", equalTo(true)).body("reason", nullValue());
    }
}

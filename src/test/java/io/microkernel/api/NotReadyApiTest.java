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
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class NotReadyApiTest {

    @Test
    @org.junit.jupiter.api.Order(1)
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

    /**
     * Issue 10, defect 3: a start-up that cannot create version 1 keeps trying with backoff, and says
     * why in readiness and in the model's metadata; once the artifact set shows up the model serves
     * without a restart. Runs after the test above (it makes the model ready).
     */
    @Test
    @org.junit.jupiter.api.Order(2)
    void startUpSaysWhyItIsNotReadyAndServesOnceTheArtifactsArrive() throws Exception {
        java.nio.file.Path artifacts = java.nio.file.Path.of(org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("microkernel.model.artifacts", String.class));
        String why = "microkernel.model.artifacts=" + artifacts.toAbsolutePath() + " is not a folder";
        given().when().get("/q/health/ready").then().statusCode(503)
                .body("checks[0].data.reason", org.hamcrest.Matchers.containsString(why))
                .body("checks[0].data.reason", org.hamcrest.Matchers.containsString("next in"));
        given().when().get("/v2/health/ready").then().statusCode(503).body("reason", org.hamcrest.Matchers.containsString(why));
        expectError(given().when().get("/v2/models/default"), 503, why);

        // The set appears whole (built aside, then renamed), as a mounted volume would.
        java.nio.file.Path aside = artifacts.resolveSibling("artifacts-being-built");
        io.microkernel.compiler.ArtifactBuilder.fromModel(io.microkernel.testing.TinyModels.classifier(1))
                .trainablePattern(java.util.regex.Pattern.compile("head\\..*"))
                .classNames(java.util.List.of("a", "b", "c"))
                .build(io.microkernel.runtime.OrtRuntime.get().environment(), aside);
        java.nio.file.Files.move(aside, artifacts, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(2))
                .until(() -> given().get("/v2/health/ready").statusCode() == 200);
        given().when().get("/q/health/ready").then().statusCode(200).body("checks[0].data.reason", org.hamcrest.Matchers.nullValue());
        given().when().get("/v2/models/default").then().statusCode(200).body("versions", org.hamcrest.Matchers.contains("1"));
        given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer").then().statusCode(200);
    }
}

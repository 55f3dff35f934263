package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

/** Samples for a model with two inputs: each sample names its inputs in an {@code inputs} object. */
@QuarkusTest
@TestProfile(TrainingProfiles.TwoInputs.class)
class TwoInputSamplesApiTest {

    private static long total() {
        return given().get("/v1/models/default/samples").then().statusCode(200).extract().jsonPath().getLong("total");
    }

    @Test
    void samplesWithEveryInputAreAcknowledgedAndCounted() {
        long before = total();
        given().contentType(ContentType.JSON).body("""
                {"samples":[
                  {"inputs":{"left":[0.5,-1.0],"right":[0.25,2.0]},"label":"a"},
                  {"inputs":{"right":[1.5,0.0],"left":[-0.5,1.0]},"label":2}
                ]}""")
                .when().post("/v1/models/default/samples")
                .then().statusCode(202)
                .body("accepted", equalTo(2))
                .body("ids", hasSize(2))
                .body("buffer.total", equalTo((int) before + 2));

        given().get("/v1/models/default/samples").then().statusCode(200)
                .body("total", equalTo((int) before + 2));
    }

    @Test
    void aSampleMissingOneInputIsA400ProblemNamingItAndNothingIsStored() {
        long before = total();
        given().contentType(ContentType.JSON).body("""
                {"samples":[
                  {"inputs":{"left":[0.5,-1.0],"right":[0.25,2.0]},"label":"a"},
                  {"inputs":{"left":[0.5,-1.0]},"label":"b"}
                ]}""")
                .when().post("/v1/models/default/samples")
                .then().statusCode(400).contentType("application/problem+json")
                .body("status", equalTo(400))
                .body("detail", equalTo("instance 1: expected inputs [left, right], found no input 'right'"));

        given().get("/v1/models/default/samples").then().statusCode(200).body("total", equalTo((int) before));
    }
}

package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

/** The HTTP contract of inference, metadata and versions, on the {@link StoreResource} store. */
@QuarkusTest
@TestProfile(StoreProfile.class)
class InferenceApiTest {

    static final String TWO_ROWS = """
            {"id":"req-1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[5,6,7,8]]}]}""";

    @Test
    void v2InferAnswersWithOutputsVersionAndPredictedClass() {
        given().contentType(ContentType.JSON).body(TWO_ROWS)
                .when().post("/v2/models/default/infer")
                .then().statusCode(200)
                .body("model_name", equalTo("default"))
                .body("model_version", equalTo("1"))
                .body("id", equalTo("req-1"))
                .body("outputs[0].name", equalTo("probabilities"))
                .body("outputs[0].datatype", equalTo("FP32"))
                .body("outputs[0].shape", contains(2, 3))
                .body("outputs[0].data", hasSize(6))
                .body("outputs[0].data[0]", org.hamcrest.Matchers.both(org.hamcrest.Matchers.greaterThan(0.90f)).and(org.hamcrest.Matchers.lessThan(0.92f)))
                .body("outputs[1].name", equalTo("predicted_class"))
                .body("outputs[1].datatype", equalTo("BYTES"))
                .body("outputs[1].data", contains("cat", "cat"));
    }

    @Test
    void v2InferReadsABodyThatArrivesInManyPiecesWhetherItRunsOnTheEventLoopOrAWorker() {
        // Over 100 KB, so it reaches the server in many reads; many requests, so both the first
        // (a worker, before any run was timed) and the later (the event loop, once runs are known short) are taken.
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            rows.append(i == 0 ? "" : ",").append("[0.1234567890123,-1.234567890123,2.345678901234,0.000001234567]")
                    .append(" ".repeat(15_000));
        }
        String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[8,4],\"datatype\":\"FP32\",\"data\":[" + rows + "]}]}";
        assertThat(body.length()).isGreaterThan(100_000);
        for (int i = 0; i < 30; i++) {
            given().contentType(ContentType.JSON).body(body)
                    .when().post("/v2/models/default/infer")
                    .then().statusCode(200)
                    .body("outputs[0].shape", contains(8, 3))
                    .body("outputs[1].data", hasSize(8));
            given().contentType(ContentType.JSON).body(TWO_ROWS)
                    .when().post("/v2/models/default/infer")
                    .then().statusCode(200)
                    .body("outputs[1].data", contains("cat", "cat"));
        }
    }

    @Test
    void v2InferOnARetainedVersionLeavesTheActiveOneAlone() {
        given().contentType(ContentType.JSON).body(TWO_ROWS)
                .when().post("/v2/models/default/versions/2/infer")
                .then().statusCode(200)
                .body("model_version", equalTo("2"))
                .body("outputs.find { it.name == 'predicted_class' }.data", contains("dog", "dog"));
        given().when().get("/v1/models/default/versions").then().statusCode(200).body("active", equalTo(1));
    }

    @Test
    void v2InferTakesEveryDatatype() {
        String body = """
                {"inputs":[
                  {"name":"i32","shape":[1,2],"datatype":"INT32","data":[1,2]},
                  {"name":"i64","shape":[1,2],"datatype":"INT64","data":[10,20]},
                  {"name":"f64","shape":[1,2],"datatype":"FP64","data":[0.5,0.25]},
                  {"name":"flag","shape":[1,2],"datatype":"BOOL","data":[true,false]}]}""";
        given().contentType(ContentType.JSON).body(body)
                .when().post("/v2/models/default/versions/4/infer")
                .then().statusCode(200)
                .body("model_version", equalTo("4"))
                .body("outputs.find { it.name == 'total' }.datatype", equalTo("FP64"))
                .body("outputs.find { it.name == 'total' }.data", contains(12.5f, 22.25f))
                .body("outputs.find { it.name == 'flag_out' }.datatype", equalTo("BOOL"))
                .body("outputs.find { it.name == 'flag_out' }.data", contains(false, true))
                .body("outputs.find { it.name == 'predicted_class' }", nullValue());
    }

    @Test
    void v2InferTakesSeveralInputsAndSelectedOutputs() {
        String body = """
                {"inputs":[{"name":"b","shape":[1,2],"datatype":"FP32","data":[3,4]},
                           {"name":"a","shape":[1,2],"datatype":"FP32","data":[1,2]}],
                 "outputs":[{"name":"sum"}]}""";
        given().contentType(ContentType.JSON).body(body)
                .when().post("/v2/models/default/versions/5/infer")
                .then().statusCode(200)
                .body("outputs", hasSize(1))
                .body("outputs[0].data", contains(4.0f, 6.0f));
    }

    @Test
    void v1PredictAnswersTheModelsOutputValuesPerInstance() {
        given().contentType(ContentType.JSON).body("{\"instances\":[[1,2,3,4],[0,0,0,0]]}")
                .when().post("/v1/models/default:predict")
                .then().statusCode(200)
                .body("model_version", equalTo("1"))
                .body("predictions", hasSize(2))
                .body("predictions[0]", hasSize(3))
                .body("predictions[0][0]", org.hamcrest.Matchers.both(org.hamcrest.Matchers.greaterThan(0.90f)).and(org.hamcrest.Matchers.lessThan(0.92f)));
    }

    @Test
    void serverAndModelMetadataAndHealth() {
        given().when().get("/v2").then().statusCode(200).body("name", equalTo("onnx-microkernel"));
        given().when().get("/v2/models/default").then().statusCode(200)
                .body("name", equalTo("default"))
                .body("platform", equalTo("onnxruntime_onnx"))
                .body("versions", contains("1", "2", "3", "4", "5", "6", "7", "8"))
                .body("inputs[0].name", equalTo("input"))
                .body("inputs[0].datatype", equalTo("FP32"))
                .body("inputs[0].shape", contains(-1, 4))
                .body("outputs[0].name", equalTo("probabilities"))
                .body("classes", contains("cat", "dog", "bird"));
        given().when().get("/v2/models/default/ready").then().statusCode(200).body("ready", equalTo(true));
        given().when().get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
        given().when().get("/v2/health/ready").then().statusCode(200).body("ready", equalTo(true));
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void versionHistoryShowsLineageMetricsHashesAndCreation() {
        given().when().get("/v1/models/default/versions").then().statusCode(200)
                .body("model", equalTo("default"))
                .body("versions.version", contains(1, 2, 3, 4, 5, 6, 7, 8))
                .body("versions[0].parent", nullValue())
                .body("versions[1].parent", equalTo(1))
                .body("versions[1].round_id", equalTo("round-2"))
                .body("versions[1].samples", equalTo(40))
                .body("versions[1].metrics.accuracy", equalTo(0.9f))
                .body("versions[1].sha256.'inference.onnx'", matchesPattern("[0-9a-f]{64}"))
                .body("versions[1].created", matchesPattern("\\d{4}-\\d\\d-\\d\\dT.*Z"));
        given().when().get("/v1/models/default/versions/3").then().statusCode(200)
                .body("model_version_status", hasSize(1))
                .body("model_version_status[0].version", equalTo("3"))
                .body("model_version_status[0].state", equalTo("END"))
                .body("model_version_status[0].status.error_code", equalTo("OK"))
                .body("version", equalTo(3)).body("parent", equalTo(2)).body("classes", contains("cat", "dog", "bird"));
        given().when().get("/v1/models/default/versions/1").then().statusCode(200)
                .body("model_version_status[0].state", equalTo("AVAILABLE")).body("active", equalTo(true));
        given().when().get("/v1/models/default").then().statusCode(200)
                .body("model_version_status.find { it.version == '1' }.state", equalTo("AVAILABLE"))
                .body("model_version_status.find { it.version == '2' }.state", equalTo("END"));
    }

    @Test
    void activateRollsForwardAndBack() {
        try {
            given().when().post("/v1/models/default/versions/2:activate").then().statusCode(200)
                    .body("active", equalTo(2)).body("previous", equalTo(1));
            given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer")
                    .then().statusCode(200).body("model_version", equalTo("2"));
            given().when().get("/v1/models/default").then()
                    .body("model_version_status.find { it.version == '2' }.state", equalTo("AVAILABLE"));
        } finally {
            given().when().post("/v1/models/default/versions/1:activate").then().statusCode(200).body("active", equalTo(1));
        }
        given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer")
                .then().statusCode(200).body("model_version", equalTo("1"));
    }

    @Test
    void unknownModelsAndVersionsAre404ErrorsOnProtocolRoutesAndProblemsOnLearningRoutes() {
        expectError(given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/nope/infer"),
                404, "expected model 'default', found 'nope'");
        expectError(given().when().get("/v2/models/nope"), 404, "found 'nope'");
        expectError(given().when().get("/v2/models/nope/ready"), 404, "found 'nope'");
        expectError(given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/versions/42/infer"),
                404, "version 42 not found: expected one of [1, 2, 3, 4, 5, 6, 7, 8], found 42");
        expectError(given().when().get("/v2/no/such/route"), 404, "");
        expectError(given().when().get("/v1/models/default/versions/abc"), 404, "expected a version number such as 1, found 'abc'");
        expectError(given().contentType(ContentType.JSON).body("{\"instances\":[[1,2,3,4]]}").when().post("/v1/models/nope:predict"),
                404, "found 'nope'");
        expectError(given().when().get("/v1/models/nope"), 404, "found 'nope'");
        expectError(given().when().get("/v1/models/nope/metadata"), 404, "found 'nope'");
        expectProblem(given().when().post("/v1/models/default/versions/42:activate"), 404, "version 42 not found");
        expectProblem(given().when().get("/v1/models/nope/versions"), 404, "found 'nope'");
        expectProblem(given().when().get("/v1/models/nope/samples"), 404, "found 'nope'");
        expectProblem(given().when().get("/v1/models/nope/rounds"), 404, "found 'nope'");
    }

    @Test
    void metricsAndOpenApiDescribeTheService() {
        given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer").then().statusCode(200);
        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("microkernel_inference_seconds_bucket{"))
                .body(matchesPattern("(?s).*microkernel_inference_seconds_count\\{[^}]*outcome=\"ok\"[^}]*version=\"1\"[^}]*} .*"))
                .body(containsString("microkernel_model_active_version{"))
                .body(containsString("microkernel_model_swaps_total"))
                .body(containsString("microkernel_model_load_failures_total"));
        given().accept("application/json").when().get("/q/openapi").then().statusCode(200)
                .body("paths.'/v2/models/{model}/infer'.post", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2/models/{model}/versions/{version}/infer'.post", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2/models/{model}'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2/models/{model}/ready'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2/health/live'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2/health/ready'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}:predict'.post", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}/versions'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}/versions/{version}'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}/versions/{version}:activate'.post", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}:classify'.post", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}/versions/{version}:predict'.post", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/models/{model}/metadata'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2/models/{model}/versions/{version}'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v2/models/{model}/versions/{version}/ready'.get", org.hamcrest.Matchers.notNullValue());
    }

    /** An error on an inference protocol route: {@code {"error": "..."}} JSON, as OIP, TF Serving and KServe clients read it. */
    static void expectError(io.restassured.response.Response response, int status, String message) {
        response.then().statusCode(status)
                .header("Content-Type", org.hamcrest.Matchers.startsWith("application/json"))
                .body("error", containsString(message))
                .body("status", equalTo(status));
    }

    /** An error on a learning route: an {@code application/problem+json} document. */
    static void expectProblem(io.restassured.response.Response response, int status, String detail) {
        response.then().statusCode(status)
                .contentType(Problem.MEDIA_TYPE)
                .body("status", equalTo(status))
                .body("type", org.hamcrest.Matchers.startsWith("urn:microkernel:problem:"))
                .body("title", org.hamcrest.Matchers.not(org.hamcrest.Matchers.emptyOrNullString()))
                .body("detail", containsString(detail));
    }
}

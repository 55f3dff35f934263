package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.expectError;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.both;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.lessThan;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

/** TF Serving's REST API and KServe v1, one test per rule of the specs, on the {@link StoreResource} store. */
@QuarkusTest
@TestProfile(StoreProfile.class)
class TfServingApiTest {

    private static Response post(String path, String body) {
        return given().contentType(ContentType.JSON).body(body).when().post(path);
    }

    @Test
    void rowFormatAnswersPredictionsAsTheOutputValues() {
        post("/v1/models/default:predict", "{\"signature_name\":\"serving_default\",\"instances\":[[1,2,3,4]]}")
                .then().statusCode(200)
                .body("predictions", hasSize(1))
                .body("predictions[0]", hasSize(3))
                .body("predictions[0][0]", both(greaterThan(0.90f)).and(lessThan(0.92f)));
        post("/v1/models/default/versions/5:predict", "{\"instances\":[{\"a\":[1,2],\"b\":[3,4]},{\"a\":[0,0],\"b\":[1,1]}]}")
                .then().statusCode(200)
                .body("model_version", equalTo("5"))
                .body("predictions", contains(contains(4.0f, 6.0f), contains(1.0f, 1.0f)));
    }

    @Test
    void columnarFormatAnswersOutputs() {
        post("/v1/models/default:predict", "{\"inputs\":[[1,2,3,4],[0,0,0,0]]}")
                .then().statusCode(200)
                .body("outputs", hasSize(2))
                .body("outputs[0]", hasSize(3))
                .body("outputs[0][0]", both(greaterThan(0.90f)).and(lessThan(0.92f)));
        post("/v1/models/default:predict", "{\"inputs\":{\"input\":[[1,2,3,4]]}}").then().statusCode(200).body("outputs", hasSize(1));
        post("/v1/models/default/versions/5:predict", "{\"inputs\":{\"a\":[[1,2],[3,4]],\"b\":[[1,1],[1,1]]}}")
                .then().statusCode(200)
                .body("outputs", contains(contains(2.0f, 3.0f), contains(4.0f, 5.0f)));
        post("/v1/models/default/versions/4:predict",
                "{\"inputs\":{\"i32\":[[1,2]],\"i64\":[[10,20]],\"f64\":[[0.5,0.25]],\"flag\":[[true,false]]}}")
                .then().statusCode(200)
                .body("outputs.total", contains(contains(12.5f, 22.25f)))
                .body("outputs.flag_out", contains(contains(false, true)));
    }

    @Test
    void textInstancesAndOutputsAreJsonStrings() {
        // Version 7: text [N,2] BYTES -> echo (BYTES) and codes (a=1, b=2, else -1; FP32).
        post("/v1/models/default/versions/7:predict", "{\"instances\":[[\"a\",\"b\"],[\"zz\",\"a\"]]}")
                .then().statusCode(200)
                .body("predictions.echo", contains(contains("a", "b"), contains("zz", "a")))
                .body("predictions.codes", contains(contains(1.0f, 2.0f), contains(-1.0f, 1.0f)));
        post("/v1/models/default/versions/7:predict", "{\"inputs\":[[\"b\",\"b\"]]}")
                .then().statusCode(200)
                .body("outputs.echo", contains(contains("b", "b")));
        expectError(post("/v1/models/default/versions/7:predict", "{\"instances\":[[\"a\",2]]}"), 400,
                "element 1: expected a string, found 2");
        expectError(post("/v1/models/default/versions/7:predict", "{\"instances\":[[{\"b64\":\"YQ==\"},\"a\"]]}"), 400,
                "element 0: expected a string, found {\"b64\":\"YQ==\"}");
    }

    @Test
    void signatureNameMustBeServingDefault() {
        expectError(post("/v1/models/default:predict", "{\"signature_name\":\"bogus\",\"instances\":[[1,2,3,4]]}"),
                400, "expected signature_name 'serving_default' or none, found 'bogus'");
        expectError(post("/v1/models/default:classify", "{\"signature_name\":\"bogus\",\"examples\":[{\"input\":[1,2,3,4]}]}"),
                400, "found 'bogus'");
    }

    @Test
    void bothOrNeitherFormatAndUnknownFieldsAre400() {
        expectError(post("/v1/models/default:predict", "{\"instances\":[[1,2,3,4]],\"inputs\":[[1,2,3,4]]}"),
                400, "expected either 'instances' (row format) or 'inputs' (columnar format), found both");
        expectError(post("/v1/models/default:predict", "{}"), 400, "expected 'instances' (row format) or 'inputs' (columnar format), found neither");
        expectError(post("/v1/models/default:predict", "{\"instances\":[[1,2,3,4]],\"instance\":[]}"),
                400, "found 'instance'");
        expectError(post("/v1/models/default:predict", "{\"instances\":[[1,2,3,4],[1,2,3]]}"),
                400, "input 'input' instance 1: expected shape [4], found [3]");
        expectError(post("/v1/models/default:predict", "{\"inputs\":[[1,2,3,4],[1,2,3]]}"),
                400, "(ragged array)");
        expectError(post("/v1/models/default:predict", "{\"inputs\":[[1,2,3]]}"), 400, "input 'input': expected shape [-1,4], found [1,3]");
    }

    @Test
    void classifyAnswersEveryClassWithItsScore() {
        post("/v1/models/default:classify", "{\"examples\":[{\"input\":[1,2,3,4]},{\"input\":[0,0,0,0]}]}")
                .then().statusCode(200)
                .body("result", hasSize(2))
                .body("result[0]", hasSize(3))
                .body("result[0][0][0]", equalTo("cat"))
                .body("result[0][0][1]", both(greaterThan(0.90f)).and(lessThan(0.92f)))
                .body("result[0].collect { it[0] }", contains("cat", "dog", "bird"));
        post("/v1/models/default/versions/2:classify", "{\"examples\":[{\"input\":[1,2,3,4]}]}")
                .then().statusCode(200).body("model_version", equalTo("2"))
                .body("result[0][1][1]", both(greaterThan(0.90f)).and(lessThan(0.92f)));
        expectError(post("/v1/models/default/versions/5:classify", "{\"examples\":[{\"a\":[1,2],\"b\":[3,4]}]}"),
                400, "expected a classification model for :classify");
        expectError(post("/v1/models/default:classify", "{\"context\":{\"x\":1},\"examples\":[{\"input\":[1,2,3,4]}]}"),
                400, "expected no 'context'");
    }

    @Test
    void metadataGivesTheServingDefaultSignatureDef() {
        given().when().get("/v1/models/default/metadata").then().statusCode(200)
                .body("model_spec.name", equalTo("default"))
                .body("model_spec.version", equalTo("1"))
                .body("metadata.signature_def.signature_def.serving_default.method_name", equalTo("tensorflow/serving/predict"))
                .body("metadata.signature_def.signature_def.serving_default.inputs.input.dtype", equalTo("DT_FLOAT"))
                .body("metadata.signature_def.signature_def.serving_default.inputs.input.tensor_shape.dim.size", contains("-1", "4"))
                .body("metadata.signature_def.signature_def.serving_default.outputs.probabilities.dtype", equalTo("DT_FLOAT"));
    }

    @Test
    void modelStatusIsTfServingsAndKServeV1s() {
        given().when().get("/v1/models/default").then().statusCode(200)
                .body("name", equalTo("default"))
                .body("ready", equalTo(true))
                .body("model_version_status.find { it.version == '1' }.state", equalTo("AVAILABLE"))
                .body("model_version_status.find { it.version == '1' }.status.error_code", equalTo("OK"));
        // KServe v1's model list and server liveness, as its REST client reads them.
        given().when().get("/v1/models").then().statusCode(200).body("models", contains("default"));
        given().when().get("/").then().statusCode(200).contentType("application/json").body("status", equalTo("alive"));
    }

    @Test
    void predictOnAVersionNeedsNoTokenFromLoopbackAndUnknownVersionsAre404() {
        expectError(post("/v1/models/default/versions/42:predict", "{\"instances\":[[1,2,3,4]]}"), 404, "version 42 not found");
        InferenceApiTest.expectProblem(post("/v1/models/default/versions/1:explain", "{\"instances\":[[1,2,3,4]]}"), 404,
                "expected a path ending in one of [:activate, :predict, :classify], found '1:explain'");
        given().when().get("/v1/models/default/versions").then().body("active", equalTo(1));
    }
}

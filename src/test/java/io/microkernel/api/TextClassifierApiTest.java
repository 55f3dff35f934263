package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.expectProblem;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.microkernel.api.grpc.GrpcChannels;
import io.microkernel.api.grpc.GrpcInferenceServiceTest;
import io.microkernel.api.grpc.proto.InferTensorContents;
import io.microkernel.api.grpc.proto.ModelInferResponse;
import io.microkernel.testing.TinyModels;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A model whose graph takes text, end to end: a training artifact set built by the compiler from
 * {@link TinyModels#textClassifier()} (BYTES input, frozen LabelEncoder, trainable Gemm head),
 * bootstrapped at start-up, served over OIP REST (JSON and binary), gRPC and TF Serving REST.
 * Text samples are refused, since the journal holds numbers.
 */
@QuarkusTest
@TestProfile(TextClassifierApiTest.TextProfile.class)
class TextClassifierApiTest {

    private static final String TWO_ROWS = "{\"inputs\":[{\"name\":\"text\",\"shape\":[2,3],\"datatype\":\"BYTES\","
            + "\"data\":[[\"red\",\"green\",\"blue\"],[\"nope\",\"nope\",\"nope\"]]}]}";

    /** The text classifier's artifact set in place of the tiny one. */
    public static class TextClassifierResource extends TinyClassifierResource {
        @Override
        protected ModelProto model() {
            return TinyModels.textClassifier();
        }
    }

    public static class TextProfile implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TextClassifierResource.class));
        }
    }

    @Test
    void metadataDeclaresTheTextInput() {
        given().when().get("/v2/models/default").then().statusCode(200)
                .body("inputs.name", contains("text"))
                .body("inputs.datatype", contains("BYTES"))
                .body("inputs[0].shape", contains(-1, 3));
        given().when().get("/v1/models/default/metadata").then().statusCode(200)
                .body("metadata.signature_def.signature_def.serving_default.inputs.text.dtype", equalTo("DT_STRING"));
    }

    @Test
    void textReachesTheModelAlikeOverJsonBinaryGrpcAndTfServing() throws Exception {
        List<Float> json = given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer")
                .then().statusCode(200).extract().jsonPath().getList("outputs[0].data", Float.class);
        assertThat(json).hasSize(6);
        // The encoder maps the known words to 1, 2, 3 and the unknown ones to 0: the two rows differ,
        // and any other unknown words answer exactly as "nope" does.
        assertThat(json.subList(0, 3)).isNotEqualTo(json.subList(3, 6));
        List<Float> unknown = given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"text\",\"shape\":[1,3],\"datatype\":\"BYTES\",\"data\":[\"x\",\"\",\"Red\"]}]}")
                .when().post("/v2/models/default/infer").then().statusCode(200)
                .extract().jsonPath().getList("outputs[0].data", Float.class);
        assertThat(unknown).isEqualTo(json.subList(3, 6));

        byte[] text = OipProtocolApiTest.lengthPrefixed("red", "green", "blue", "nope", "nope", "nope");
        String header = "{\"inputs\":[{\"name\":\"text\",\"shape\":[2,3],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":"
                + text.length + "}}],\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":true}}]}";
        Response binary = OipProtocolApiTest.Binary.of(header, text).post("/v2/models/default/infer");
        binary.then().statusCode(200);
        assertThat(bits(OipProtocolApiTest.Decoded.of(binary).floats(0, 6))).isEqualTo(bits(json));

        ManagedChannel channel = GrpcChannels.open();
        try {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            List.of("red", "green", "blue", "nope", "nope", "nope").forEach(t -> contents.addBytesContents(ByteString.copyFromUtf8(t)));
            ModelInferResponse answer = GrpcChannels.stub(channel).modelInfer(GrpcInferenceServiceTest.request()
                    .addInputs(GrpcInferenceServiceTest.input("text", "BYTES", 2, 3).setContents(contents)).build());
            assertThat(bits(answer.getOutputs(0).getContents().getFp32ContentsList())).isEqualTo(bits(json));
        } finally {
            GrpcChannels.close(channel);
        }

        List<Float> rows = given().contentType(ContentType.JSON).body("{\"instances\":[[\"red\",\"green\",\"blue\"]]}")
                .when().post("/v1/models/default:predict").then().statusCode(200)
                .extract().jsonPath().getList("predictions[0]", Float.class);
        assertThat(bits(rows)).isEqualTo(bits(json.subList(0, 3)));
    }

    @Test
    void textSamplesAreRefusedAndNothingIsStored() {
        expectProblem(given().contentType(ContentType.JSON)
                .body("{\"samples\":[{\"input\":[\"red\",\"green\",\"blue\"],\"label\":\"a\"}]}")
                .when().post("/v1/models/default/samples"), 400,
                "input 'text': expected a numeric or boolean input to learn from, found BYTES (text inputs are served, not trained on)");
        given().when().get("/v1/models/default/samples").then().statusCode(200).body("total", equalTo(0));
    }

    private static List<Integer> bits(List<Float> values) {
        return values.stream().map(Float::floatToRawIntBits).toList();
    }

    private static List<Integer> bits(float[] values) {
        List<Integer> out = new java.util.ArrayList<>();
        for (float v : values) {
            out.add(Float.floatToRawIntBits(v));
        }
        return out;
    }
}

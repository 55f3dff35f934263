package io.microkernel.api.grpc;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.microkernel.api.StoreProfile;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.api.grpc.proto.InferTensorContents;
import io.microkernel.api.grpc.proto.ModelInferRequest;
import io.microkernel.api.grpc.proto.ModelInferResponse;
import io.microkernel.api.grpc.proto.ModelMetadataRequest;
import io.microkernel.api.grpc.proto.ModelMetadataResponse;
import io.microkernel.api.grpc.proto.ModelReadyRequest;
import io.microkernel.api.grpc.proto.ServerLiveRequest;
import io.microkernel.api.grpc.proto.ServerMetadataRequest;
import io.microkernel.api.grpc.proto.ServerReadyRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code inference.GRPCInferenceService} over a real channel with the stubs generated from
 * {@code grpc_predict_v2.proto}, in the profile (and the Quarkus boot) of {@code InferenceApiTest}:
 * version 1 answers "cat" on input [-1,4] FP32, 4 takes INT32/INT64/FP64/BOOL, 5 takes two inputs.
 */
@QuarkusTest
@TestProfile(StoreProfile.class)
public class GrpcInferenceServiceTest {

    private static final float[] TWO_ROWS = {1, 2, 3, 4, 5, 6, 7, 8};
    private static final String TWO_ROWS_JSON = """
            {"id":"req-1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[5,6,7,8]]}]}""";

    private static ManagedChannel channel;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @BeforeAll
    static void connect() {
        channel = GrpcChannels.open();
        stub = GrpcChannels.stub(channel);
    }

    @AfterAll
    static void disconnect() throws InterruptedException {
        GrpcChannels.close(channel);
    }

    @Test
    void healthAndMetadataRpcsDescribeServerAndModel() {
        assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
        assertThat(stub.serverMetadata(ServerMetadataRequest.getDefaultInstance()).getName()).isEqualTo("onnx-microkernel");
        assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("default").build()).getReady()).isTrue();
        assertThat(stub.modelReady(ModelReadyRequest.newBuilder().setName("default").setVersion("2").build()).getReady()).isTrue();

        ModelMetadataResponse metadata = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("default").build());
        assertThat(metadata.getName()).isEqualTo("default");
        assertThat(metadata.getPlatform()).isEqualTo("onnxruntime_onnx");
        assertThat(metadata.getVersionsList()).containsExactly("1", "2", "3", "4", "5", "6", "7", "8");
        assertThat(metadata.getInputs(0).getName()).isEqualTo("input");
        assertThat(metadata.getInputs(0).getDatatype()).isEqualTo("FP32");
        assertThat(metadata.getInputs(0).getShapeList()).containsExactly(-1L, 4L);
        assertThat(metadata.getOutputs(0).getName()).isEqualTo("probabilities");

        ModelMetadataResponse typed = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("default").setVersion("4").build());
        assertThat(typed.getInputsList()).extracting(ModelMetadataResponse.TensorMetadata::getDatatype)
                .containsExactly("INT32", "INT64", "FP64", "BOOL");
    }

    @Test
    void rawAndTypedContentsGiveRestsOutputsToTheLastBit() throws Exception {
        ModelInferResponse typed = stub.modelInfer(request().addInputs(input("input", "FP32", 2, 4)
                .setContents(fp32(TWO_ROWS))).build());
        ModelInferResponse raw = stub.modelInfer(request().addInputs(input("input", "FP32", 2, 4))
                .addRawInputContents(littleEndian(TWO_ROWS)).build());

        for (ModelInferResponse answer : List.of(typed, raw)) {
            assertThat(answer.getModelName()).isEqualTo("default");
            assertThat(answer.getModelVersion()).isEqualTo("1");
            assertThat(answer.getId()).isEqualTo("req-1");
            assertThat(answer.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName).containsExactly("probabilities");
            assertThat(answer.getOutputs(0).getDatatype()).isEqualTo("FP32");
            assertThat(answer.getOutputs(0).getShapeList()).containsExactly(2L, 3L);
        }
        assertThat(typed.getRawOutputContentsCount()).isZero();
        assertThat(raw.getRawOutputContentsCount()).isEqualTo(1);
        assertThat(raw.getOutputs(0).hasContents()).isFalse();

        List<Integer> typedBits = bits(typed.getOutputs(0).getContents().getFp32ContentsList());
        List<Integer> rawBits = bits(floats(raw.getRawOutputContents(0)));
        List<Integer> restBits = bits(restProbabilities());
        assertThat(typedBits).hasSize(6).isEqualTo(rawBits).isEqualTo(restBits);
        assertThat(Float.intBitsToFloat(typedBits.get(0))).isBetween(0.90f, 0.92f);
    }

    @Test
    void typedContentsOfEveryDatatypeOnARetainedVersion() {
        ModelInferResponse answer = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("default").setModelVersion("4")
                .addInputs(input("i32", "INT32", 1, 2).setContents(InferTensorContents.newBuilder().addIntContents(1).addIntContents(2)))
                .addInputs(input("i64", "INT64", 1, 2).setContents(InferTensorContents.newBuilder().addInt64Contents(10).addInt64Contents(20)))
                .addInputs(input("f64", "FP64", 1, 2).setContents(InferTensorContents.newBuilder().addFp64Contents(0.5).addFp64Contents(0.25)))
                .addInputs(input("flag", "BOOL", 1, 2).setContents(InferTensorContents.newBuilder().addBoolContents(true).addBoolContents(false)))
                .build());
        assertThat(answer.getModelVersion()).isEqualTo("4");
        ModelInferResponse.InferOutputTensor total = output(answer, "total");
        assertThat(total.getDatatype()).isEqualTo("FP64");
        assertThat(total.getContents().getFp64ContentsList()).containsExactly(12.5, 22.25);
        ModelInferResponse.InferOutputTensor flag = output(answer, "flag_out");
        assertThat(flag.getDatatype()).isEqualTo("BOOL");
        assertThat(flag.getContents().getBoolContentsList()).containsExactly(false, true);
    }

    @Test
    void requestedOutputsAreTheOnlyOnesReturned() {
        ModelInferResponse answer = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("default").setModelVersion("5")
                .addInputs(input("b", "FP32", 1, 2).setContents(fp32(3, 4)))
                .addInputs(input("a", "FP32", 1, 2).setContents(fp32(1, 2)))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("sum"))
                .build());
        assertThat(answer.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName).containsExactly("sum");
        assertThat(answer.getOutputs(0).getContents().getFp32ContentsList()).containsExactly(4.0f, 6.0f);

        expectStatus(() -> stub.modelInfer(request().addInputs(input("input", "FP32", 2, 4).setContents(fp32(TWO_ROWS)))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("nope")).build()),
                Status.Code.INVALID_ARGUMENT, "expected requested outputs among [probabilities], found 'nope'");
    }

    @Test
    void badInputsAreInvalidArgumentWithRestsMessage() {
        String restDetail = given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"input\",\"shape\":[2,5],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5,6,7,8,9,10]}]}")
                .when().post("/v2/models/default/infer").then().statusCode(400).extract().path("error");
        assertThat(restDetail).contains("expected shape [-1,4], found [2,5]");
        expectStatus(() -> stub.modelInfer(request().addInputs(input("input", "FP32", 2, 5))
                .addRawInputContents(littleEndian(new float[10])).build()), Status.Code.INVALID_ARGUMENT, restDetail);

        expectStatus(() -> stub.modelInfer(request().addInputs(input("input", "FP32", 2, 4))
                .addRawInputContents(littleEndian(new float[7])).build()),
                Status.Code.INVALID_ARGUMENT, "input 'input': shape [2,4] of FP32 expected 32 bytes of raw_input_contents, found 28");
        expectStatus(() -> stub.modelInfer(request().addInputs(input("input", "FP32", 2, 4).setContents(fp32(1, 2, 3))).build()),
                Status.Code.INVALID_ARGUMENT, "expected 8 values in contents.fp32_contents, found 3");
        expectStatus(() -> stub.modelInfer(request().addInputs(input("input", "INT64", 2, 4)
                .setContents(InferTensorContents.newBuilder().addInt64Contents(1))).build()),
                Status.Code.INVALID_ARGUMENT, "input 'input': expected datatype FP32, found INT64");
        expectStatus(() -> stub.modelInfer(request().addInputs(input("input", "FP32", 1, 4).setContents(fp32(1, Float.NaN, 3, 4))).build()),
                Status.Code.INVALID_ARGUMENT, "input 'input' element 1: expected a finite FP32 value, found NaN");
        expectStatus(() -> stub.modelInfer(request().build()), Status.Code.INVALID_ARGUMENT, "expected inputs [input], found none");
    }

    @Test
    void bytesTravelInBytesContentsAndLengthPrefixedRawContents() {
        // Version 7: text [N,2] BYTES -> echo (BYTES) and codes (a=1, b=2, é=3, else -1; FP32).
        List<String> text = List.of("a", "é", "b", "zz");
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        text.forEach(t -> contents.addBytesContents(ByteString.copyFromUtf8(t)));
        ModelInferResponse typed = stub.modelInfer(request().setModelVersion("7")
                .addInputs(input("text", "BYTES", 2, 2).setContents(contents)).build());
        assertThat(output(typed, "echo").getDatatype()).isEqualTo("BYTES");
        assertThat(output(typed, "echo").getShapeList()).containsExactly(2L, 2L);
        assertThat(output(typed, "echo").getContents().getBytesContentsList()).extracting(ByteString::toStringUtf8)
                .containsExactlyElementsOf(text);
        assertThat(output(typed, "codes").getContents().getFp32ContentsList()).containsExactly(1f, 3f, 2f, -1f);

        ByteString packed = lengthPrefixed(text);
        ModelInferResponse raw = stub.modelInfer(request().setModelVersion("7")
                .addInputs(input("text", "BYTES", 2, 2)).addRawInputContents(packed).build());
        assertThat(raw.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName).containsExactly("echo", "codes");
        assertThat(raw.getRawOutputContents(0)).isEqualTo(packed);
        assertThat(floats(raw.getRawOutputContents(1))).containsExactly(1f, 3f, 2f, -1f);

        expectStatus(() -> stub.modelInfer(request().setModelVersion("7").addInputs(input("text", "BYTES", 1, 2)
                .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("a"))
                        .addBytesContents(ByteString.copyFrom(new byte[] {(byte) 0xc3})))).build()),
                Status.Code.INVALID_ARGUMENT, "input 'text' element 1: expected UTF-8 text");
        expectStatus(() -> stub.modelInfer(request().setModelVersion("7").addInputs(input("text", "BYTES", 1, 2))
                .addRawInputContents(lengthPrefixed(List.of("a"))).build()),
                Status.Code.INVALID_ARGUMENT, "input 'text': raw_input_contents of BYTES shape [1,2]: shape [1,2] expected 2"
                        + " length-prefixed elements, found 1");
    }

    @Test
    void bf16TravelsOnlyAsRawContents() {
        // Version 8: bf [N,2] BF16 -> bf_out (Identity, BF16) and bf_float (Cast to FP32).
        ByteString bits = ByteString.copyFrom(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) 0x3fc0).putShort((short) 0xbe9a).array());
        ModelInferResponse raw = stub.modelInfer(request().setModelVersion("8").addInputs(input("bf", "BF16", 1, 2))
                .addRawInputContents(bits).build());
        assertThat(output(raw, "bf_out").getDatatype()).isEqualTo("BF16");
        assertThat(raw.getRawOutputContents(0)).isEqualTo(bits);
        assertThat(floats(raw.getRawOutputContents(1))).containsExactly(1.5f, -0.30078125f);
        expectStatus(() -> stub.modelInfer(request().setModelVersion("8").addInputs(input("bf", "BF16", 1, 2)
                .setContents(fp32(1.5f, -0.3f))).build()),
                Status.Code.INVALID_ARGUMENT, "input 'bf': expected raw_input_contents for datatype BF16, which has no typed field");
    }

    /** BYTES elements as raw contents carry them: each a 4-byte little-endian length, then its UTF-8 bytes. */
    private static ByteString lengthPrefixed(List<String> values) {
        ByteString.Output out = ByteString.newOutput();
        for (String value : values) {
            byte[] utf8 = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array(), 0, 4);
            out.write(utf8, 0, utf8.length);
        }
        return out.toByteString();
    }

    @Test
    void unknownModelsAndVersionsAreNotFound() {
        expectStatus(() -> stub.modelInfer(request().setModelName("nope").addInputs(input("input", "FP32", 2, 4)
                .setContents(fp32(TWO_ROWS))).build()), Status.Code.NOT_FOUND, "expected model 'default', found 'nope'");
        expectStatus(() -> stub.modelInfer(request().setModelVersion("42").addInputs(input("input", "FP32", 2, 4)
                .setContents(fp32(TWO_ROWS))).build()), Status.Code.NOT_FOUND, "version 42 not found: expected one of [1, 2, 3, 4, 5, 6, 7, 8], found 42");
        expectStatus(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()),
                Status.Code.NOT_FOUND, "found 'nope'");
        expectStatus(() -> stub.modelReady(ModelReadyRequest.newBuilder().setName("default").setVersion("abc").build()),
                Status.Code.NOT_FOUND, "expected a version number such as 1, found 'abc'");
    }

    @Test
    void inferenceOverGrpcIsTimedLikeRest() {
        double before = okCount();
        stub.modelInfer(request().addInputs(input("input", "FP32", 2, 4).setContents(fp32(TWO_ROWS))).build());
        assertThat(okCount()).isEqualTo(before + 1);
    }

    @Test
    void aRequestWithoutAnIdIsAnsweredWithAGeneratedOneForFeedback() {
        ModelInferRequest noId = request().clearId().addInputs(input("input", "FP32", 2, 4).setContents(fp32(TWO_ROWS))).build();
        String first = stub.modelInfer(noId).getId();
        assertThat(first).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(stub.modelInfer(noId).getId()).isNotEqualTo(first);
    }

    /** {@code microkernel_inference_seconds_count} of version 1, outcome ok. */
    private static double okCount() {
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("microkernel_inference_seconds_count{"))
                .filter(l -> l.contains("outcome=\"ok\"") && l.contains("version=\"1\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    public static ModelInferRequest.Builder request() {
        return ModelInferRequest.newBuilder().setModelName("default").setId("req-1");
    }

    public static ModelInferRequest.InferInputTensor.Builder input(String name, String datatype, long... shape) {
        ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(name).setDatatype(datatype);
        for (long dim : shape) {
            input.addShape(dim);
        }
        return input;
    }

    public static InferTensorContents.Builder fp32(float... values) {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        for (float v : values) {
            contents.addFp32Contents(v);
        }
        return contents;
    }

    static ByteString littleEndian(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putFloat(v);
        }
        return ByteString.copyFrom(bytes.array());
    }

    private static List<Float> floats(ByteString raw) {
        ByteBuffer bytes = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<Float> values = new ArrayList<>();
        while (bytes.remaining() >= 4) {
            values.add(bytes.getFloat());
        }
        return values;
    }

    private static List<Integer> bits(List<Float> values) {
        return values.stream().map(Float::floatToRawIntBits).toList();
    }

    /** REST's JSON answer to the same rows, each number parsed from its exact decimal text. */
    private static List<Float> restProbabilities() throws Exception {
        String body = given().contentType(ContentType.JSON).body(TWO_ROWS_JSON).when().post("/v2/models/default/infer")
                .then().statusCode(200).extract().asString();
        JsonNode data = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).readTree(body)
                .path("outputs").get(0).path("data");
        List<Float> values = new ArrayList<>();
        data.forEach(v -> values.add(Float.parseFloat(v.decimalValue().toString())));
        return values;
    }

    private static ModelInferResponse.InferOutputTensor output(ModelInferResponse answer, String name) {
        return answer.getOutputsList().stream().filter(o -> o.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no output '" + name + "' in " + answer.getOutputsList()));
    }

    public static void expectStatus(Runnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}

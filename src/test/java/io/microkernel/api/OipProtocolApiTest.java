package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.TWO_ROWS;
import static io.microkernel.api.InferenceApiTest.expectError;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * KServe's Open Inference Protocol v2 REST and Triton's binary tensor data extension, one test per
 * rule of the specs, on the {@link StoreResource} store.
 */
@QuarkusTest
@TestProfile(StoreProfile.class)
class OipProtocolApiTest {

    private static final float[] EIGHT = {1, 2, 3, 4, 5, 6, 7, 8};

    /** A binary-extension body: the JSON header, then the bytes; the header length goes in Inference-Header-Content-Length. */
    record Binary(byte[] body, int headerLength) {

        static Binary of(String header, byte[]... tensors) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] json = header.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(json);
            Arrays.stream(tensors).forEach(out::writeBytes);
            return new Binary(out.toByteArray(), json.length);
        }

        Response post(String path) {
            return given().header("Inference-Header-Content-Length", headerLength).contentType("application/octet-stream")
                    .body(body).when().post(path);
        }
    }

    static byte[] littleEndian(float... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putFloat(v);
        }
        return bytes.array();
    }

    private static String binaryInput(int size, String outputs) {
        return "{\"id\":\"bin-1\",\"inputs\":[{\"name\":\"input\",\"shape\":[2,4],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
                + size + "}}]" + outputs + "}";
    }

    @Test
    void serverMetadataAnnouncesTheBinaryTensorExtension() {
        given().when().get("/v2").then().statusCode(200).body("extensions", hasItem("binary_tensor_data"));
    }

    @Test
    void modelMetadataDeclaresEveryOutputInferReturns() {
        List<String> declared = given().when().get("/v2/models/default").then().statusCode(200)
                .body("outputs.find { it.name == 'predicted_class' }.datatype", equalTo("BYTES"))
                .body("outputs.find { it.name == 'predicted_class' }.shape", contains(-1))
                .extract().jsonPath().getList("outputs.name", String.class);
        List<String> returned = given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer")
                .then().statusCode(200).extract().jsonPath().getList("outputs.name", String.class);
        assertThat(declared).containsExactly("probabilities", "predicted_class");
        assertThat(declared).containsAll(returned);
        assertThat(returned).containsExactlyElementsOf(declared);
    }

    @Test
    void versionMetadataAndReadinessAnswerPerVersion() {
        given().when().get("/v2/models/default/versions/4").then().statusCode(200)
                .body("name", equalTo("default"))
                .body("inputs.name", contains("i32", "i64", "f64", "flag"))
                .body("outputs.name", contains("total", "flag_out"));
        given().when().get("/v2/models/default/versions/1").then().statusCode(200)
                .body("outputs.name", contains("probabilities", "predicted_class"));
        given().when().get("/v2/models/default/versions/4/ready").then().statusCode(200)
                .body("name", equalTo("default")).body("ready", equalTo(true));
        expectError(given().when().get("/v2/models/default/versions/42"), 404, "version 42 not found");
        expectError(given().when().get("/v2/models/default/versions/42/ready"), 404, "version 42 not found");
        given().when().get("/v1/models/default/versions").then().body("active", equalTo(1));
    }

    @Test
    void aModelNameInTheBodyAsInTritonsExamplesIsTolerated() {
        given().contentType(ContentType.JSON).body(TWO_ROWS.replace("{\"id\"", "{\"model_name\":\"default\",\"id\""))
                .when().post("/v2/models/default/infer").then().statusCode(200).body("id", equalTo("req-1"));
    }

    @Test
    void theRequestIdIsEchoedAndGeneratedWhenNotGiven() {
        given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/infer")
                .then().statusCode(200).body("id", equalTo("req-1"));
        // Feedback labels a prediction by its id, so an answer always carries one.
        String first = given().contentType(ContentType.JSON).body(TWO_ROWS.replace("\"id\":\"req-1\",", ""))
                .when().post("/v2/models/default/infer").then().statusCode(200)
                .body("id", matchesPattern("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"))
                .extract().path("id");
        given().contentType(ContentType.JSON).body(TWO_ROWS.replace("\"id\":\"req-1\",", ""))
                .when().post("/v2/models/default/infer").then().statusCode(200).body("id", not(equalTo(first)));
    }

    @Test
    void parametersAreHonouredOrRefused() {
        expectError(given().contentType(ContentType.JSON).body(TWO_ROWS.replace("{\"id\"", "{\"parameters\":{\"priority\":1},\"id\""))
                .when().post("/v2/models/default/infer"), 400,
                "request: expected parameters among [binary_data_output], found 'priority', which this service does not support");
        expectError(given().contentType(ContentType.JSON)
                .body(TWO_ROWS.replace("{\"id\"", "{\"parameters\":{\"binary_data_output\":\"yes\"},\"id\""))
                .when().post("/v2/models/default/infer"), 400, "expected parameter 'binary_data_output' to be true or false, found yes");
        expectError(given().contentType(ContentType.JSON)
                .body(TWO_ROWS.replace("]}]}", "],\"parameters\":{\"shared_memory_region\":\"r\"}}]}"))
                .when().post("/v2/models/default/infer"), 400, "input 'input': expected parameters among [binary_data_size], found 'shared_memory_region'");
        expectError(given().contentType(ContentType.JSON)
                .body(TWO_ROWS.replace("]}]}", "]}],\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"classification\":2}}]}"))
                .when().post("/v2/models/default/infer"), 400, "output 'probabilities': expected parameters among [binary_data], found 'classification'");
    }

    @Test
    void jsonBinaryDataOutputGivesBinaryOutputsWithTheirSizes() {
        Response response = given().contentType(ContentType.JSON)
                .body(TWO_ROWS.replace("{\"id\"", "{\"parameters\":{\"binary_data_output\":true},\"id\""))
                .when().post("/v2/models/default/infer");
        response.then().statusCode(200).contentType("application/octet-stream");
        Decoded decoded = Decoded.of(response);
        assertThat(decoded.header.getString("id")).isEqualTo("req-1");
        assertThat(decoded.header.getInt("outputs[0].parameters.binary_data_size")).isEqualTo(24);
        assertThat(decoded.header.getList("outputs[0].data")).isNull();
        assertThat(decoded.header.getInt("outputs[1].parameters.binary_data_size")).isEqualTo(2 * (4 + 3));
        assertThat(decoded.strings(24, 2)).containsExactly("cat", "cat");
    }

    @Test
    void binaryFp32InputsAndOutputsEqualJsonToTheLastBit() {
        List<Float> json = given().contentType(ContentType.JSON).body(TWO_ROWS).when().post("/v2/models/default/versions/2/infer")
                .then().statusCode(200).extract().jsonPath().getList("outputs[0].data", Float.class);
        Response response = Binary.of(binaryInput(32, ",\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":true}},"
                + "{\"name\":\"predicted_class\"}]"), littleEndian(EIGHT)).post("/v2/models/default/versions/2/infer");
        response.then().statusCode(200).contentType("application/octet-stream");
        Decoded decoded = Decoded.of(response);
        assertThat(decoded.header.getString("model_version")).isEqualTo("2");
        assertThat(decoded.header.getString("id")).isEqualTo("bin-1");
        assertThat(decoded.header.getList("outputs[0].shape", Integer.class)).containsExactly(2, 3);
        assertThat(decoded.header.getList("outputs[1].data", String.class)).containsExactly("dog", "dog");
        float[] binary = decoded.floats(0, 6);
        assertThat(json).hasSize(6);
        for (int i = 0; i < 6; i++) {
            assertThat(Float.floatToRawIntBits(binary[i])).as("element %d", i).isEqualTo(Float.floatToRawIntBits(json.get(i)));
        }
    }

    @Test
    void binaryInputsWithJsonOutputsAnswerPlainJson() {
        Binary.of(binaryInput(32, ""), littleEndian(EIGHT)).post("/v2/models/default/infer")
                .then().statusCode(200).contentType(ContentType.JSON)
                .body("outputs[1].data", contains("cat", "cat"))
                .body("outputs[0].data.size()", equalTo(6));
    }

    @Test
    void binaryBodiesThatDoNotAddUpAre400() {
        expectError(Binary.of(binaryInput(31, ""), Arrays.copyOf(littleEndian(EIGHT), 31)).post("/v2/models/default/infer"),
                400, "input 'input': shape [2,4] of FP32 expected 32 bytes of binary data, found 31");
        expectError(Binary.of(binaryInput(32, ""), littleEndian(1, 2, 3)).post("/v2/models/default/infer"),
                400, "input 'input': expected 32 bytes of binary data (binary_data_size), found 12 left in the body");
        expectError(Binary.of(binaryInput(32, ""), littleEndian(EIGHT), new byte[3]).post("/v2/models/default/infer"),
                400, "found 3 bytes more");
        expectError(given().contentType(ContentType.JSON).body(binaryInput(32, "")).when().post("/v2/models/default/infer"),
                400, "input 'input': expected an Inference-Header-Content-Length header with binary_data_size, found none");
        expectError(given().header("Inference-Header-Content-Length", 5000).contentType("application/octet-stream")
                .body(binaryInput(32, "").getBytes(StandardCharsets.UTF_8)).when().post("/v2/models/default/infer"), 400,
                "expected a JSON header of 5000 bytes");
        expectError(given().contentType("application/octet-stream").body(new byte[8]).when().post("/v2/models/default/infer"),
                415, "without that header");
        float[] withNaN = EIGHT.clone();
        withNaN[5] = Float.NaN;
        expectError(Binary.of(binaryInput(32, ""), littleEndian(withNaN)).post("/v2/models/default/infer"),
                400, "input 'input' element 5: expected a finite FP32 value, found NaN");
    }

    @Test
    void narrowDatatypesRoundTripInJson() {
        String body = """
                {"inputs":[
                  {"name":"h","shape":[1,2],"datatype":"FP16","data":[1.5,-0.25]},
                  {"name":"i8","shape":[1,2],"datatype":"INT8","data":[-128,127]},
                  {"name":"i16","shape":[1,2],"datatype":"INT16","data":[-32768,32767]},
                  {"name":"u8","shape":[1,2],"datatype":"UINT8","data":[0,255]}]}""";
        given().contentType(ContentType.JSON).body(body).when().post("/v2/models/default/versions/6/infer")
                .then().statusCode(200)
                .body("outputs.find { it.name == 'h_out' }.datatype", equalTo("FP16"))
                .body("outputs.find { it.name == 'h_out' }.data", contains(1.5f, -0.25f))
                .body("outputs.find { it.name == 'h_twice' }.data", contains(3.0f, -0.5f))
                .body("outputs.find { it.name == 'i8_out' }.datatype", equalTo("INT8"))
                .body("outputs.find { it.name == 'i8_out' }.data", contains(-128, 127))
                .body("outputs.find { it.name == 'i16_out' }.data", contains(-32768, 32767))
                .body("outputs.find { it.name == 'u8_out' }.datatype", equalTo("UINT8"))
                .body("outputs.find { it.name == 'u8_out' }.data", contains(0, 255));
        given().when().get("/v2/models/default/versions/6").then().statusCode(200)
                .body("inputs.datatype", contains("FP16", "INT8", "INT16", "UINT8"));
    }

    @Test
    void narrowDatatypesRefuseValuesOutOfRange() {
        String base = "{\"inputs\":[{\"name\":\"h\",\"shape\":[1,2],\"datatype\":\"FP16\",\"data\":%s},"
                + "{\"name\":\"i8\",\"shape\":[1,2],\"datatype\":\"INT8\",\"data\":%s},"
                + "{\"name\":\"i16\",\"shape\":[1,2],\"datatype\":\"INT16\",\"data\":[0,0]},"
                + "{\"name\":\"u8\",\"shape\":[1,2],\"datatype\":\"UINT8\",\"data\":%s}]}";
        expectError(given().contentType(ContentType.JSON).body(base.formatted("[1,70000]", "[0,0]", "[0,0]"))
                .when().post("/v2/models/default/versions/6/infer"), 400, "input 'h' element 1: expected a finite FP16 value, found 70000");
        expectError(given().contentType(ContentType.JSON).body(base.formatted("[1,2]", "[0,128]", "[0,0]"))
                .when().post("/v2/models/default/versions/6/infer"), 400, "input 'i8' element 1: expected an INT8 integer in [-128, 127], found 128");
        expectError(given().contentType(ContentType.JSON).body(base.formatted("[1,2]", "[0,0]", "[-1,0]"))
                .when().post("/v2/models/default/versions/6/infer"), 400, "input 'u8' element 0: expected an UINT8 integer in [0, 255], found -1");
    }

    @Test
    void narrowDatatypesTravelAsBinaryToo() {
        ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3e00).putShort((short) 0xb400);
        ByteBuffer i16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) -300).putShort((short) 300);
        String header = "{\"inputs\":[{\"name\":\"h\",\"shape\":[1,2],\"datatype\":\"FP16\",\"parameters\":{\"binary_data_size\":4}},"
                + "{\"name\":\"i8\",\"shape\":[1,2],\"datatype\":\"INT8\",\"parameters\":{\"binary_data_size\":2}},"
                + "{\"name\":\"i16\",\"shape\":[1,2],\"datatype\":\"INT16\",\"parameters\":{\"binary_data_size\":4}},"
                + "{\"name\":\"u8\",\"shape\":[1,2],\"datatype\":\"UINT8\",\"parameters\":{\"binary_data_size\":2}}],"
                + "\"parameters\":{\"binary_data_output\":true}}";
        Response response = Binary.of(header, half.array(), new byte[] {-5, 5}, i16.array(), new byte[] {(byte) 200, 7})
                .post("/v2/models/default/versions/6/infer");
        response.then().statusCode(200);
        Decoded decoded = Decoded.of(response);
        assertThat(decoded.header.getList("outputs.name", String.class))
                .containsExactly("h_out", "i8_out", "i16_out", "u8_out", "h_twice");
        ByteBuffer out = ByteBuffer.wrap(decoded.binary).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(out.getShort(0)).isEqualTo((short) 0x3e00);
        assertThat(out.getShort(2)).isEqualTo((short) 0xb400);
        assertThat(out.get(4)).isEqualTo((byte) -5);
        assertThat(out.getShort(6)).isEqualTo((short) -300);
        assertThat(out.get(10)).isEqualTo((byte) 200);
        assertThat(out.getShort(12)).isEqualTo((short) 0x4200);
    }

    /** BYTES elements as the binary extension carries them: each a 4-byte little-endian length, then its UTF-8 bytes. */
    static byte[] lengthPrefixed(String... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String value : values) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array());
            out.writeBytes(utf8);
        }
        return out.toByteArray();
    }

    /** The JSON of an answer, decoded as UTF-8 whatever charset the client would assume. */
    private static JsonPath utf8Json(Response response) {
        return JsonPath.from(new String(response.asByteArray(), StandardCharsets.UTF_8));
    }

    @Test
    void bytesTensorsTravelAsJsonStringsInAndOut() {
        // Version 7: text [N,2] BYTES -> echo (Identity, BYTES) and codes (LabelEncoder a=1, b=2, é=3, else -1; FP32).
        Response response = given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"text\",\"shape\":[2,2],\"datatype\":\"BYTES\","
                        + "\"data\":[[\"a\",\"\\u00e9\"],[\"b\",\"zz\"]]}]}")
                .when().post("/v2/models/default/versions/7/infer");
        response.then().statusCode(200);
        JsonPath answer = utf8Json(response);
        assertThat(answer.getList("outputs.name", String.class)).containsExactly("echo", "codes");
        assertThat(answer.getString("outputs[0].datatype")).isEqualTo("BYTES");
        assertThat(answer.getList("outputs[0].shape", Integer.class)).containsExactly(2, 2);
        assertThat(answer.getList("outputs[0].data", String.class)).containsExactly("a", "é", "b", "zz");
        assertThat(answer.getList("outputs[1].data", Float.class)).containsExactly(1f, 3f, 2f, -1f);
        given().when().get("/v2/models/default/versions/7").then().statusCode(200)
                .body("inputs.datatype", contains("BYTES"))
                .body("outputs.datatype", contains("BYTES", "FP32"));
    }

    @Test
    void bytesTensorsTravelLengthPrefixedInTheBinaryExtension() {
        byte[] text = lengthPrefixed("a", "é", "b", "");
        String header = "{\"inputs\":[{\"name\":\"text\",\"shape\":[2,2],\"datatype\":\"BYTES\","
                + "\"parameters\":{\"binary_data_size\":" + text.length + "}}],"
                + "\"outputs\":[{\"name\":\"echo\",\"parameters\":{\"binary_data\":true}},{\"name\":\"codes\"}]}";
        Response response = Binary.of(header, text).post("/v2/models/default/versions/7/infer");
        response.then().statusCode(200);
        Decoded decoded = Decoded.of(response);
        assertThat(decoded.header.getList("outputs.name", String.class)).containsExactly("echo", "codes");
        assertThat(decoded.header.getString("outputs[0].datatype")).isEqualTo("BYTES");
        assertThat(decoded.header.getInt("outputs[0].parameters.binary_data_size")).isEqualTo(text.length);
        assertThat(decoded.binary).isEqualTo(text);
        assertThat(decoded.strings(0, 4)).containsExactly("a", "é", "b", "");
        assertThat(decoded.header.getList("outputs[1].data", Float.class)).containsExactly(1f, 3f, 2f, -1f);
    }

    @Test
    void bytesInputsRefuseWhatTheModelCouldNotReadClearly() {
        String json = "{\"inputs\":[{\"name\":\"text\",\"shape\":[1,2],\"datatype\":\"BYTES\",\"data\":%s}]}";
        String path = "/v2/models/default/versions/7/infer";
        expectError(given().contentType(ContentType.JSON).body(json.formatted("[\"a\",1]")).when().post(path), 400,
                "input 'text' element 1: expected a string, found 1");
        // ONNX Runtime's Java API would hand an emoji to the model as modified UTF-8, other bytes than were sent.
        expectError(given().contentType(ContentType.JSON).body(json.formatted("[\"a\",\"\\uD83D\\uDE00\"]")).when().post(path), 400,
                "input 'text' element 1: expected text without NUL or characters outside the Basic Multilingual Plane");
        expectError(given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"text\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[1,2]}]}")
                .when().post(path), 400, "input 'text': expected datatype BYTES, found FP32");

        String header = "{\"inputs\":[{\"name\":\"text\",\"shape\":[1,2],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":%d}}]}";
        byte[] notUtf8 = {1, 0, 0, 0, (byte) 0xff, 1, 0, 0, 0, 'a'};
        expectError(Binary.of(header.formatted(notUtf8.length), notUtf8).post(path), 400,
                "input 'text': binary BYTES data of shape [1,2]: element 0: expected UTF-8 text");
        byte[] overrun = {1, 0, 0, 0, 'a', 9, 0, 0, 0, 'b'};
        expectError(Binary.of(header.formatted(overrun.length), overrun).post(path), 400,
                "element 1: expected 9 bytes after its 4-byte length, found 1");
        byte[] extra = lengthPrefixed("a", "b", "c");
        expectError(Binary.of(header.formatted(extra.length), extra).post(path), 400,
                "shape [1,2] expected 2 length-prefixed elements, found 5 bytes more");
    }

    @Test
    void bf16TravelsInJsonAndBinary() {
        // Version 8: bf [N,2] BF16 -> bf_out (Identity) and bf_float (Cast to FP32). -0.3 rounds to bfloat16 -0.30078125.
        Response json = given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"bf\",\"shape\":[1,2],\"datatype\":\"BF16\",\"data\":[1.5,-0.3]}]}")
                .when().post("/v2/models/default/versions/8/infer");
        json.then().statusCode(200)
                .body("outputs.find { it.name == 'bf_out' }.datatype", equalTo("BF16"))
                .body("outputs.find { it.name == 'bf_out' }.data", contains(1.5f, -0.30078125f))
                .body("outputs.find { it.name == 'bf_float' }.data", contains(1.5f, -0.30078125f));
        given().when().get("/v2/models/default/versions/8").then().statusCode(200).body("inputs.datatype", contains("BF16"));

        byte[] bits = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3fc0).putShort((short) 0xbe9a).array();
        String header = "{\"inputs\":[{\"name\":\"bf\",\"shape\":[1,2],\"datatype\":\"BF16\",\"parameters\":{\"binary_data_size\":4}}],"
                + "\"outputs\":[{\"name\":\"bf_out\",\"parameters\":{\"binary_data\":true}}]}";
        Response binary = Binary.of(header, bits).post("/v2/models/default/versions/8/infer");
        binary.then().statusCode(200);
        assertThat(Decoded.of(binary).binary).isEqualTo(bits);
        expectError(given().contentType(ContentType.JSON)
                .body("{\"inputs\":[{\"name\":\"bf\",\"shape\":[1,2],\"datatype\":\"BF16\",\"data\":[1,1e39]}]}")
                .when().post("/v2/models/default/versions/8/infer"), 400, "input 'bf' element 1: expected a finite BF16 value");
    }

    @Test
    void datatypesTheRuntimeCannotHoldAreRefusedClearly() {
        expectError(given().contentType(ContentType.JSON).body(
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"UINT64\",\"data\":[1,2,3,4]}]}")
                .when().post("/v2/models/default/infer"), 400,
                "input 'input': expected datatype FP32, found UINT64 (ONNX Runtime's Java API has no UINT64 tensors)");
        for (String unsigned : List.of("UINT16", "UINT32")) {
            expectError(given().contentType(ContentType.JSON).body(
                    "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"" + unsigned + "\",\"data\":[1,2,3,4]}]}")
                    .when().post("/v2/models/default/infer"), 400, "input 'input': expected datatype FP32, found " + unsigned
                    + " (ONNX Runtime's Java API has no " + unsigned + " tensors)");
        }

        expectError(given().contentType(ContentType.JSON).body(
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FLOAT32\",\"data\":[1,2,3,4]}]}")
                .when().post("/v2/models/default/infer"), 400, "input 'input': expected datatype FP32, found FLOAT32");
    }

    @Test
    void strictParsingRefusesLooseShapesRaggedDataAndUnknownFields() {
        String input = "{\"inputs\":[{\"name\":\"input\",\"shape\":%s,\"datatype\":\"FP32\",\"data\":%s}]}";
        expectError(given().contentType(ContentType.JSON).body(input.formatted("[1.5,4]", "[1,2,3,4]"))
                .when().post("/v2/models/default/infer"), 400, "'inputs.[0].shape' dimension 0: expected an integer, found 1.5");
        expectError(given().contentType(ContentType.JSON).body(input.formatted("[\"1\",4]", "[1,2,3,4]"))
                .when().post("/v2/models/default/infer"), 400, "dimension 0: expected an integer, found the string \"1\"");
        expectError(given().contentType(ContentType.JSON).body(input.formatted("[2,4]", "[[1,2,3],[4,5,6,7,8]]"))
                .when().post("/v2/models/default/infer"), 400, "input 'input': expected 4 items at depth 1 of nested data for shape [2,4], found 3 (ragged array)");
        expectError(given().contentType(ContentType.JSON).body(input.formatted("[2,4]", "[[1,2,3,4],5,6,7,8]"))
                .when().post("/v2/models/default/infer"), 400, "expected an array at depth 1 of nested data for shape [2,4], found the value 5");
        expectError(given().contentType(ContentType.JSON).body(TWO_ROWS.replace("{\"id\"", "{\"instances\":[],\"id\""))
                .when().post("/v2/models/default/infer"), 400, "expected only the fields [id, inputs, outputs, parameters], found 'instances'");
    }

    /** A binary-extension answer split into its JSON header and the bytes after it. */
    record Decoded(JsonPath header, byte[] binary) {

        static Decoded of(Response response) {
            int length = Integer.parseInt(response.header("Inference-Header-Content-Length"));
            byte[] body = response.asByteArray();
            return new Decoded(JsonPath.from(new String(body, 0, length, StandardCharsets.UTF_8)),
                    Arrays.copyOfRange(body, length, body.length));
        }

        float[] floats(int offset, int count) {
            ByteBuffer bytes = ByteBuffer.wrap(binary).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[count];
            for (int i = 0; i < count; i++) {
                out[i] = bytes.getFloat(offset + 4 * i);
            }
            return out;
        }

        List<String> strings(int offset, int count) {
            ByteBuffer bytes = ByteBuffer.wrap(binary).order(ByteOrder.LITTLE_ENDIAN).position(offset);
            List<String> out = new java.util.ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] utf8 = new byte[bytes.getInt()];
                bytes.get(utf8);
                out.add(new String(utf8, StandardCharsets.UTF_8));
            }
            return out;
        }
    }
}

package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.expectError;
import static io.restassured.RestAssured.given;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.URL;
import org.junit.jupiter.api.Test;

/** Every kind of bad request gets its 4xx problem saying what was expected and what was found. */
@QuarkusTest
@TestProfile(StoreProfile.class)
class BadInputApiTest {

    @TestHTTPResource("/")
    URL url;

    private static Response infer(String body) {
        return given().contentType(ContentType.JSON).body(body).when().post("/v2/models/default/infer");
    }

    private static Response predict(String body) {
        return given().contentType(ContentType.JSON).body(body).when().post("/v1/models/default:predict");
    }

    private static String tensor(String name, String shape, String datatype, String data) {
        return "{\"inputs\":[{\"name\":\"" + name + "\",\"shape\":" + shape + ",\"datatype\":\"" + datatype + "\",\"data\":" + data + "}]}";
    }

    @Test
    void unknownAndMissingInputs() {
        expectError(infer(tensor("pixels", "[1,4]", "FP32", "[1,2,3,4]")), 400,
                "expected inputs [input], found unknown input 'pixels'");
        expectError(infer("{\"inputs\":[]}"), 400, "expected inputs [input], found none");
        expectError(infer("{}"), 400, "expected inputs [input], found none");
    }

    @Test
    void wrongRankShapeAndDatatype() {
        expectError(infer(tensor("input", "[4]", "FP32", "[1,2,3,4]")), 400,
                "input 'input': expected shape [-1,4], found [4]");
        expectError(infer(tensor("input", "[1,5]", "FP32", "[1,2,3,4,5]")), 400,
                "input 'input': expected shape [-1,4], found [1,5]");
        expectError(infer(tensor("input", "[1,4]", "INT64", "[1,2,3,4]")), 400,
                "input 'input': expected datatype FP32, found INT64");
        expectError(predict("{\"instances\":[[1,2,3]]}"), 400, "input 'input' instance 0: expected shape [4], found [3]");
    }

    @Test
    void dataThatDoesNotMatchTheShape() {
        expectError(infer(tensor("input", "[2,4]", "FP32", "[1,2,3,4,5,6,7]")), 400,
                "input 'input': shape [2,4] expected 8 values, found 7");
    }

    @Test
    void nonFiniteAndNonNumericValues() {
        expectError(infer(tensor("input", "[1,4]", "FP32", "[1,NaN,3,4]")), 400,
                "input 'input' element 1: expected a finite FP32 value, found NaN");
        expectError(infer(tensor("input", "[1,4]", "FP32", "[1,2,Infinity,4]")), 400,
                "element 2: expected a finite FP32 value, found Infinity");
        expectError(infer(tensor("input", "[1,4]", "FP32", "[1,2,3,\"four\"]")), 400,
                "element 3: expected a FP32 number, found \"four\"");
        expectError(predict("{\"instances\":[[1,null,3,4]]}"), 400, "element 1: expected a FP32 number, found null");
    }

    @Test
    void emptyAndOversizedBatches() {
        expectError(infer(tensor("input", "[0,4]", "FP32", "[]")), 400, "expected at least 1 instance, found 0");
        expectError(predict("{\"instances\":[]}"), 400, "expected at least 1 instance, found 0");
        String nine = "[" + "[1,2,3,4],".repeat(8) + "[1,2,3,4]]";
        expectError(predict("{\"instances\":" + nine + "}"), 400,
                "expected at most 8 instances (microkernel.serving.max-batch), found 9");
        expectError(infer(tensor("input", "[9,4]", "FP32", nine)), 400, "expected at most 8 instances");
    }

    @Test
    void malformedBodiesAre400NotServerErrors() {
        expectError(infer("{\"inputs\":[{\"name\":"), 400, "expected a JSON document");
        expectError(infer("{\"inputs\":\"input\"}"), 400, "expected valid JSON for 'inputs'");
        expectError(infer("{\"inputs\":[{\"name\":\"input\",\"shape\":[\"one\",4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}"),
                400, "'inputs.[0].shape' dimension 0: expected an integer, found the string \"one\"");
        expectError(infer(tensor("input", "[1,4]", "FP32", "null")), 400, "input 'input': expected data, found none");
        expectError(given().contentType(ContentType.TEXT).body("hello").when().post("/v2/models/default/infer"), 415, "");
    }

    @Test
    void bodiesOverTheSizeLimitAre413() throws Exception {
        // quarkus.http.limits.max-body-size is 8M. The request declares 9 MiB and waits for the
        // server's verdict (Expect: 100-continue) before sending any of it.
        try (Socket socket = new Socket(url.getHost(), url.getPort())) {
            socket.setSoTimeout(60_000);
            String head = "POST /v2/models/default/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 9437184\r\nExpect: 100-continue\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String response = readResponse(socket.getInputStream());

            org.assertj.core.api.Assertions.assertThat(response).startsWith("HTTP/1.1 413")
                    .contains("application/json")
                    .contains("\"error\":\"expected a body of at most 8388608 bytes")
                    .contains("expected a body of at most 8388608 bytes (quarkus.http.limits.max-body-size), found 9437184");
        }
    }

    /** Status line, headers and a Content-Length body; does not wait for the connection to close. */
    private static String readResponse(java.io.InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return head.toString();
            }
            head.append((char) b);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length:\\s*(\\d+)").matcher(head);
        byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : new byte[0];
        return head + new String(body, StandardCharsets.UTF_8);
    }
}

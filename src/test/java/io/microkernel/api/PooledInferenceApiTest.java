package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.tensor.BufferPool;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * OIP v2 inference on pooled input and output buffers, on the two-input classifier ({@code left [-1,2]},
 * {@code right [-1,2]}, {@link TwoInputClassifierResource}), so a request borrows two input buffers and
 * one per numeric output: concurrent requests with different inputs get the very answers they get
 * alone, and each request's buffers go back to the pool once, when it is answered.
 */
@QuarkusTest
@TestProfile(TrainingProfiles.TwoInputs.class)
class PooledInferenceApiTest {

    private static final int THREADS = 8;
    private static final int REQUESTS_PER_THREAD = 24;

    @TestHTTPResource("/v2/models/default/infer")
    URL infer;

    @Inject
    BufferPool buffers;

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Four features of client {@code t}, different for every client. */
    static float[] features(int t) {
        return new float[] {t * 0.37f - 1, 2 - t * 0.11f, (t % 3) * 0.5f, -t * 0.23f};
    }

    private static String json(float[] x) {
        return String.format(Locale.ROOT, "{\"inputs\":[{\"name\":\"left\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[%s,%s]},"
                + "{\"name\":\"right\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[%s,%s]}]}", x[0], x[1], x[2], x[3]);
    }

    private static byte[] binary(float[] x, StringBuilder headerLength) {
        byte[] header = ("{\"inputs\":[{\"name\":\"left\",\"shape\":[1,2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}},"
                + "{\"name\":\"right\",\"shape\":[1,2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}}]}")
                .getBytes(StandardCharsets.UTF_8);
        headerLength.append(header.length);
        ByteBuffer body = ByteBuffer.allocate(header.length + 16).order(ByteOrder.LITTLE_ENDIAN).put(header);
        for (float v : x) {
            body.putFloat(v);
        }
        return body.array();
    }

    /** The probabilities the service answers for {@code x}, sent as JSON or as binary data. */
    private List<Float> probabilities(float[] x, boolean asBinary) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(infer.toString()));
        if (asBinary) {
            StringBuilder headerLength = new StringBuilder();
            byte[] body = binary(x, headerLength);
            request.header(BinaryTensors.HEADER_LENGTH, headerLength.toString()).header("Content-Type", "application/octet-stream")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        } else {
            request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json(x)));
        }
        HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JsonPath.from(response.body()).getList("outputs[0].data", Float.class);
    }

    @Test
    void concurrentRequestsWithDifferentInputsGetTheAnswersTheyGetAlone() throws Exception {
        List<List<Float>> alone = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            alone.add(probabilities(features(t), false));
        }
        ConcurrentClients.eachGetsItsOwnAnswers(alone, REQUESTS_PER_THREAD,
                (client, i) -> probabilities(features(client), i % 2 == 1));
    }

    @Test
    void eachRequestTakesItsBuffersAndGivesThemBackOnce() throws Exception {
        probabilities(features(1), false);
        // Two inputs, and every numeric output (text outputs have no packed buffer).
        HttpResponse<String> first = client.send(HttpRequest.newBuilder(URI.create(infer.toString()))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json(features(2)))).build(),
                HttpResponse.BodyHandlers.ofString());
        long numericOutputs = JsonPath.from(first.body()).getList("outputs.datatype", String.class).stream()
                .filter(type -> !"BYTES".equals(type)).count();
        assertThat(numericOutputs).as(first.body()).isPositive();
        long perRequest = 2 + numericOutputs;
        long idle = buffers.idleBytes();
        long allocated = buffers.allocated();
        long reused = buffers.reused();

        for (int i = 0; i < 20; i++) {
            probabilities(features(i), i % 2 == 0);
        }

        // One after another, every request finds the buffers the one before gave back (its inputs' and
        // its outputs'); a buffer given back twice would leave more idle bytes, one never given back
        // would make requests allocate.
        assertThat(buffers.allocated() - allocated).isZero();
        assertThat(buffers.reused() - reused).isEqualTo(perRequest * 20);
        assertThat(buffers.idleBytes()).isEqualTo(idle).isPositive();
    }
}

package io.microkernel.api;

import static io.microkernel.api.PooledInferenceApiTest.features;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.microkernel.api.grpc.GrpcChannels;
import io.microkernel.api.grpc.proto.GRPCInferenceServiceGrpc;
import io.microkernel.api.grpc.proto.InferTensorContents;
import io.microkernel.api.grpc.proto.ModelInferRequest;
import io.microkernel.api.grpc.proto.ModelInferResponse;
import io.microkernel.tensor.BufferPool;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC {@code ModelInfer} and TF Serving's {@code :predict} (and {@code :classify}) on pooled input
 * and output buffers, as {@link PooledInferenceApiTest} proves it for OIP v2 over REST, on the same
 * two-input classifier ({@code left [-1,2]}, {@code right [-1,2]}, one output {@code probabilities
 * [-1,3]}): a request borrows two input buffers and one output buffer. Concurrent clients with
 * different inputs get the very answers they get alone, whatever form they ask in, and each request's
 * buffers go back to the pool once, when its answer is built.
 */
@QuarkusTest
@TestProfile(TrainingProfiles.TwoInputs.class)
class PooledPredictApiTest {

    private static final int THREADS = 8;
    private static final int REQUESTS_PER_THREAD = 24;
    private static final int IN_A_ROW = 20;
    /** Two inputs and the one (numeric) output. */
    private static final int BUFFERS_PER_REQUEST = 3;

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ManagedChannel channel;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @TestHTTPResource("/v1/models/default:predict")
    URL predict;

    @TestHTTPResource("/v1/models/default:classify")
    URL classify;

    @Inject
    BufferPool buffers;

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** One inference endpoint, asked in one of its {@link #forms()} request forms for the class probabilities of {@code x}. */
    private interface Endpoint {
        int forms();

        List<Float> probabilities(float[] x, int form) throws Exception;
    }

    @BeforeAll
    static void connect() {
        channel = GrpcChannels.open();
        stub = GrpcChannels.stub(channel);
    }

    @AfterAll
    static void disconnect() throws InterruptedException {
        GrpcChannels.close(channel);
    }

    /** gRPC {@code ModelInfer}: form 0 sends typed {@code contents} (answered typed), form 1 {@code raw_input_contents} (answered raw). */
    private final Endpoint grpc = new Endpoint() {
        @Override
        public int forms() {
            return 2;
        }

        @Override
        public List<Float> probabilities(float[] x, int form) {
            boolean raw = form == 1;
            ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("default");
            for (int i = 0; i < 2; i++) {
                ModelInferRequest.InferInputTensor.Builder input = request.addInputsBuilder()
                        .setName(i == 0 ? "left" : "right").setDatatype("FP32").addShape(1).addShape(2);
                float a = x[2 * i];
                float b = x[2 * i + 1];
                if (raw) {
                    request.addRawInputContents(ByteString.copyFrom(
                            ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(a).putFloat(b).flip()));
                } else {
                    input.setContents(InferTensorContents.newBuilder().addFp32Contents(a).addFp32Contents(b));
                }
            }
            ModelInferResponse response = stub.modelInfer(request.build());
            assertThat(response.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName)
                    .containsExactly("probabilities");
            if (!raw) {
                return response.getOutputs(0).getContents().getFp32ContentsList();
            }
            FloatBuffer floats = response.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            List<Float> values = new ArrayList<>();
            while (floats.hasRemaining()) {
                values.add(floats.get());
            }
            return values;
        }
    };

    /** TF Serving's REST API: form 0 {@code :predict} with instances, form 1 with columnar inputs, form 2 {@code :classify}. */
    private final Endpoint v1 = new Endpoint() {
        @Override
        public int forms() {
            return 3;
        }

        @Override
        public List<Float> probabilities(float[] x, int form) throws Exception {
            String left = String.format(Locale.ROOT, "[%s,%s]", x[0], x[1]);
            String right = String.format(Locale.ROOT, "[%s,%s]", x[2], x[3]);
            String body = switch (form) {
                case 0 -> "{\"instances\":[{\"left\":" + left + ",\"right\":" + right + "}]}";
                case 1 -> "{\"inputs\":{\"left\":[" + left + "],\"right\":[" + right + "]}}";
                default -> "{\"examples\":[{\"left\":" + left + ",\"right\":" + right + "}]}";
            };
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create((form == 2 ? classify : predict).toString()))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode answer = JSON.readTree(response.body());
            JsonNode row = switch (form) {
                case 0 -> answer.path("predictions").path(0);
                case 1 -> answer.path("outputs").path(0);
                default -> answer.path("result").path(0);
            };
            assertThat(row.isArray()).as(response.body()).isTrue();
            List<Float> values = new ArrayList<>();
            // A classify row lists [label, score] per class.
            row.forEach(value -> values.add((float) (form == 2 ? value.path(1) : value).doubleValue()));
            return values;
        }
    };

    @Test
    void grpcClientsAtOnceGetTheAnswersTheyGetAlone() throws Exception {
        concurrentClientsGetTheAnswersTheyGetAlone(grpc);
    }

    @Test
    void v1ClientsAtOnceGetTheAnswersTheyGetAlone() throws Exception {
        concurrentClientsGetTheAnswersTheyGetAlone(v1);
    }

    @Test
    void eachGrpcRequestTakesItsBuffersAndGivesThemBackOnce() throws Exception {
        eachRequestTakesItsBuffersAndGivesThemBackOnce(grpc);
    }

    @Test
    void eachV1RequestTakesItsBuffersAndGivesThemBackOnce() throws Exception {
        eachRequestTakesItsBuffersAndGivesThemBackOnce(v1);
    }

    /**
     * Clients with different inputs, all at once, each asking in every form in turn, get what they
     * got alone: a buffer given back while its request still read it, or handed to two requests,
     * would show as another client's answer or as a failed request.
     */
    private void concurrentClientsGetTheAnswersTheyGetAlone(Endpoint endpoint) throws Exception {
        List<List<Float>> alone = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            alone.add(endpoint.probabilities(features(t), 0));
        }
        assertThat(alone).allSatisfy(answer -> assertThat(answer).hasSize(3));
        ConcurrentClients.eachGetsItsOwnAnswers(alone, REQUESTS_PER_THREAD,
                (client, i) -> endpoint.probabilities(features(client), i % endpoint.forms()));
    }

    /**
     * One request after another, each finds the buffers the one before gave back (its inputs' and its
     * output's): a buffer given back twice would leave more idle bytes, one never given back would
     * make requests allocate.
     */
    private void eachRequestTakesItsBuffersAndGivesThemBackOnce(Endpoint endpoint) throws Exception {
        for (int form = 0; form < endpoint.forms(); form++) {
            endpoint.probabilities(features(1), form);
        }
        long idle = buffers.idleBytes();
        long allocated = buffers.allocated();
        long reused = buffers.reused();

        for (int i = 0; i < IN_A_ROW; i++) {
            assertThat(endpoint.probabilities(features(i), i % endpoint.forms())).hasSize(3);
        }

        assertThat(buffers.allocated() - allocated).isZero();
        assertThat(buffers.reused() - reused).isEqualTo((long) BUFFERS_PER_REQUEST * IN_A_ROW);
        assertThat(buffers.idleBytes()).isEqualTo(idle).isPositive();
    }
}

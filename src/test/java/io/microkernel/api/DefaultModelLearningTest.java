package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import io.microkernel.demo.ShapeImages;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The promise of the default model, over HTTP only: its shipped head is weak on the target style,
 * posting target-style samples and running one round promotes a version, and held-out accuracy
 * measured through {@code /v2/models/default/infer} rises from below 50% to above 90%.
 */
@QuarkusTest
@TestProfile(DefaultModelLearningTest.EmptyDataDir.class)
class DefaultModelLearningTest {

    /** Samples posted per request (within microkernel.serving.max-batch). */
    private static final int PER_REQUEST = 200;
    private static final int POSTED = 800;
    private static final int HELD_OUT = 400;

    /** The default model bootstrapped into an empty data dir. */
    public static class EmptyDataDir implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(EmptyDataDirResource.class));
        }
    }

    public static class EmptyDataDirResource implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                Path data = Files.createTempDirectory("microkernel-default-learning");
                return Map.of("microkernel.data-dir", data.toString(),
                        "microkernel.model.artifacts", Path.of("models", "default").toAbsolutePath().toString(),
                        "microkernel.training.threads", "2");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void stop() {
        }
    }

    @Test
    void targetSamplesOverHttpTeachTheModelTheTargetStyle() {
        JsonPath metadata = given().get("/v2/models/default").then().statusCode(200).extract().jsonPath();
        String input = metadata.getString("inputs[0].name");
        ShapeImages.Batch heldOut = ShapeImages.generate(ShapeImages.Domain.TARGET, HELD_OUT, 90_001);
        int before = given().get("/v1/models/default/versions").then().statusCode(200).extract().jsonPath()
                .getInt("active");
        double accuracyBefore = accuracy(input, heldOut, before);
        assertThat(accuracyBefore).as("the shipped head on the target style").isLessThan(0.5);

        ShapeImages.Batch samples = ShapeImages.generate(ShapeImages.Domain.TARGET, POSTED, 90_002);
        for (int from = 0; from < POSTED; from += PER_REQUEST) {
            given().contentType(ContentType.JSON).body(samplesJson(samples, from, from + PER_REQUEST))
                    .post("/v1/models/default/samples").then().statusCode(202);
        }
        given().get("/v1/models/default/samples").then().statusCode(200).body("total", equalTo(POSTED));

        String location = given().contentType(ContentType.JSON).body("{\"epochs\":10,\"learning_rate\":0.01,\"seed\":7}")
                .post("/v1/models/default/rounds").then().statusCode(202).extract().header("Location");
        await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(1)).until(() ->
                !List.of("queued", "running").contains(given().get(location).then().extract().jsonPath().getString("state")));
        JsonPath round = given().get(location).then().statusCode(200).extract().jsonPath();
        assertThat(round.getString("state")).as(round.prettify()).isEqualTo("promoted");
        // The backbone is frozen: the round trained on the cut graph with cached features.
        assertThat(round.getBoolean("feature_cache.used")).as(round.prettify()).isTrue();
        assertThat(round.getDouble("feature_cache.hit_rate")).isGreaterThan(0.5);
        int promoted = round.getInt("promoted_version");
        assertThat(promoted).isGreaterThan(before);
        given().get("/v1/models/default/versions").then().body("active", equalTo(promoted));

        double accuracyAfter = accuracy(input, heldOut, promoted);
        assertThat(accuracyAfter).as("after one round on %d target samples (before: %.3f)", POSTED, accuracyBefore)
                .isGreaterThan(0.9);
    }

    /** Share of held-out images whose predicted class (from /v2 infer) is right; checks which version answered. */
    private static double accuracy(String input, ShapeImages.Batch batch, int expectedVersion) {
        int correct = 0;
        for (int from = 0; from < batch.size(); from += PER_REQUEST) {
            int to = Math.min(batch.size(), from + PER_REQUEST);
            String body = "{\"inputs\":[{\"name\":\"" + input + "\",\"shape\":[" + (to - from) + ",1,"
                    + ShapeImages.SIZE + "," + ShapeImages.SIZE + "],\"datatype\":\"FP32\",\"data\":"
                    + floats(batch.flatten(from, to)) + "}]}";
            JsonPath answer = given().contentType(ContentType.JSON).body(body).post("/v2/models/default/infer")
                    .then().statusCode(200).body("model_version", equalTo(Integer.toString(expectedVersion)))
                    .extract().jsonPath();
            List<String> predicted = answer.getList("outputs.find { it.name == 'predicted_class' }.data", String.class);
            for (int i = from; i < to; i++) {
                if (predicted.get(i - from).equals(batch.className(i))) {
                    correct++;
                }
            }
        }
        return (double) correct / batch.size();
    }

    private static String samplesJson(ShapeImages.Batch batch, int from, int to) {
        List<String> samples = new ArrayList<>();
        for (int i = from; i < to; i++) {
            // Class names for even rows, indices for odd rows: both label forms are part of the contract.
            String label = i % 2 == 0 ? "\"" + batch.className(i) + "\"" : Integer.toString(batch.labels()[i]);
            samples.add("{\"input\":" + nested(batch.instance(i)) + ",\"label\":" + label + "}");
        }
        return "{\"samples\":[" + String.join(",", samples) + "]}";
    }

    private static String nested(float[][][] image) {
        return Arrays.stream(image).map(plane -> Arrays.stream(plane).map(DefaultModelLearningTest::floats)
                .collect(Collectors.joining(",", "[", "]"))).collect(Collectors.joining(",", "[", "]"));
    }

    private static String floats(float[] values) {
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                text.append(',');
            }
            text.append(values[i]);
        }
        return text.append(']').toString();
    }
}

package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import org.junit.jupiter.api.Test;

/**
 * Generated bad requests over HTTP, against the samples endpoint, the round parameters and
 * inference, on the tiny classifier of {@link TrainingProfiles.Open} (the same Quarkus boot as
 * {@code TrainingApiTest}). jqwik's generators run here without its engine, because a property
 * cannot live inside a {@code @QuarkusTest}. Every answer must be 4xx (or 200 for the rare
 * inference that happens to be valid), never 5xx; no bad sample is stored and no round starts.
 */
@QuarkusTest
@TestProfile(TrainingProfiles.Open.class)
class HttpFuzzTest {

    static final int SAMPLE_CASES = 250;
    static final int ROUND_CASES = 150;
    static final int INFER_CASES = 200;

    @Test
    void badSamplesAreRefusedWith4xxAndNoneIsStored() {
        long before = total();
        List<String> failures = post("/v1/models/default/samples", samples(), SAMPLE_CASES, 400, 499);
        assertThat(failures).as("answers outside 4xx").isEmpty();
        assertThat(total()).as("samples stored from bad requests").isEqualTo(before);
    }

    @Test
    void badRoundParametersAreRefusedWith4xxAndStartNoRound() {
        int before = given().get("/v1/models/default/rounds").then().statusCode(200).extract().jsonPath()
                .getList("rounds").size();
        List<String> failures = post("/v1/models/default/rounds", roundRequests(), ROUND_CASES, 400, 499);
        assertThat(failures).as("answers outside 4xx").isEmpty();
        assertThat(given().get("/v1/models/default/rounds").then().statusCode(200).extract().jsonPath().getList("rounds"))
                .hasSize(before);
    }

    @Test
    void badInferenceRequestsAreNever5xx() {
        Arbitrary<String> inputs = FuzzInputs.oipInput().map(i -> i.replace("\"name\":\"x\"", "\"name\":\"input\""))
                .list().ofMaxSize(2).map(FuzzInputs::array);
        Arbitrary<String> bodies = inputs.map(i -> "{\"inputs\":" + i + "}");
        List<String> failures = post("/v2/models/default/infer", Arbitraries.oneOf(bodies, FuzzInputs.broken(bodies)),
                INFER_CASES, 200, 499);
        assertThat(failures).as("answers of 5xx").isEmpty();
    }

    /** Posts {@code cases} generated bodies; returns a line for each answer outside [low, high]. */
    private static List<String> post(String path, Arbitrary<String> bodies, int cases, int low, int high) {
        List<String> failures = new ArrayList<>();
        bodies.sampleStream().limit(cases).forEach(body -> {
            Response answer = given().contentType(ContentType.JSON).body(body).post(path);
            if (answer.statusCode() < low || answer.statusCode() > high) {
                failures.add(answer.statusCode() + " for " + body + ": " + answer.asString());
            }
        });
        return failures;
    }

    private static Arbitrary<String> samples() {
        Arbitrary<String> badLabel = Arbitraries.of("\"z\"", "3", "-1", "1.5", "null", "[]", "{}", "\"\"", "true",
                "9223372036854775808", "\"A\"");
        Arbitrary<String> input = Arbitraries.oneOf(FuzzInputs.value(2),
                Arbitraries.of("[0.1,0.2,0.3,0.4]", "[[0.1,0.2,0.3,0.4]]", "[0.1,0.2,0.3]", "[NaN,0,0,0]"));
        Arbitrary<String> sample = Combinators.combine(input, badLabel, Arbitraries.of("input", "inputs", "x"))
                .as((i, l, key) -> "{\"" + key + "\":" + i + ",\"label\":" + l + "}");
        Arbitrary<String> body = sample.list().ofMinSize(1).ofMaxSize(3)
                .map(l -> "{\"samples\":[" + String.join(",", l) + "]}");
        return Arbitraries.oneOf(body, body, FuzzInputs.broken(body),
                FuzzInputs.value(2).map(v -> "{\"samples\":" + v + "}"));
    }

    /** Round overrides with at least one field out of range or of the wrong type. */
    private static Arbitrary<String> roundRequests() {
        // Only values no coercion can turn into a valid one ("5" would become 5, true 1).
        Arbitrary<String> badEpochs = Arbitraries.of("0", "-1", "10001", "\"five\"", "[]", "{}", "2147483648", "NaN");
        Arbitrary<String> badBatch = Arbitraries.of("0", "-3", "\"many\"", "1e12", "[]", "{}");
        Arbitrary<String> badRate = Arbitraries.of("0", "-0.1", "NaN", "Infinity", "1e400", "\"fast\"", "[]", "-1e-9");
        Arbitrary<String> badSeed = Arbitraries.of("\"x\"", "1.5e400", "[]", "{}", "99999999999999999999");
        Arbitrary<String> oneBad = Arbitraries.oneOf(badEpochs.map(v -> "\"epochs\":" + v),
                badBatch.map(v -> "\"batch_size\":" + v), badRate.map(v -> "\"learning_rate\":" + v),
                badSeed.map(v -> "\"seed\":" + v));
        Arbitrary<String> body = oneBad.list().ofMinSize(1).ofMaxSize(3)
                .map(fields -> "{" + fields.stream().collect(Collectors.joining(",")) + "}");
        // Cut off before its closing brace: never a valid document, whatever the cut leaves of a number.
        return Arbitraries.oneOf(body, body, body.map(b -> b.substring(0, b.length() - 1)));
    }

    private static long total() {
        return given().get("/v1/models/default/samples").then().statusCode(200).extract().jsonPath().getLong("total");
    }
}

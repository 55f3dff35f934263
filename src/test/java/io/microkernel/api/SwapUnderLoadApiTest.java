package io.microkernel.api;

import static io.microkernel.api.InferenceApiTest.TWO_ROWS;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Several clients send hundreds of requests while versions are activated back and forth over HTTP:
 * no request fails, and every answer comes from a version that was active during the request and
 * carries that version's own output.
 */
@QuarkusTest
@TestProfile(StoreProfile.class)
class SwapUnderLoadApiTest {

    private static final List<String> CLASS_OF_VERSION = List.of("cat", "dog", "bird");

    @Test
    void noRequestFailsAcrossSwapsAndRollbacks() throws Exception {
        // Each activation is appended before it is requested: while entry k is being applied the
        // served version is entry k or k-1.
        List<Integer> history = new CopyOnWriteArrayList<>(List.of(1));
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        int clients = 4;
        int requestsPerClient = 100;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        CountDownLatch done = new CountDownLatch(clients);
        List<Future<Integer>> results = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            results.add(pool.submit(() -> {
                int ok = 0;
                try {
                    for (int i = 0; i < requestsPerClient; i++) {
                        int start = history.size() - 1;
                        Response response = given().contentType(ContentType.JSON).body(TWO_ROWS).post("/v2/models/default/infer");
                        int end = history.size() - 1;
                        if (response.statusCode() != 200) {
                            failures.add("status " + response.statusCode() + ": " + response.asString());
                            continue;
                        }
                        int version = Integer.parseInt(response.path("model_version"));
                        // A copy first: a sub-list view of the live history fails once another activation is appended.
                        List<Integer> allowed = List.copyOf(history).subList(Math.max(0, start - 1), end + 1);
                        if (!allowed.contains(version)) {
                            failures.add("answered by " + version + ", active during the request: " + allowed);
                        }
                        List<String> classes = response.path("outputs.find { it.name == 'predicted_class' }.data");
                        if (!classes.equals(List.of(CLASS_OF_VERSION.get(version - 1), CLASS_OF_VERSION.get(version - 1)))) {
                            failures.add("version " + version + " answered " + classes);
                        }
                        ok++;
                    }
                } finally {
                    done.countDown();
                }
                return ok;
            }));
        }
        int[] plan = {2, 3, 1, 2, 3, 2, 1, 3, 1, 2, 3, 1};
        int swaps = 0;
        try {
            for (int version : plan) {
                if (done.getCount() == 0) {
                    break;
                }
                history.add(version);
                given().post("/v1/models/default/versions/" + version + ":activate").then().statusCode(200);
                swaps++;
            }
            int answered = 0;
            for (Future<Integer> result : results) {
                answered += result.get(300, TimeUnit.SECONDS);
            }

            assertThat(failures).isEmpty();
            assertThat(answered).isEqualTo(clients * requestsPerClient);
            assertThat(swaps).isGreaterThanOrEqualTo(3);
        } finally {
            pool.shutdownNow();
            given().post("/v1/models/default/versions/1:activate").then().statusCode(200);
        }
    }
}

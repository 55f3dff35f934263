package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microkernel.testing.NatsServer;
import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.Nats;
import io.nats.client.api.KeyValueEntry;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet mode end to end: one real {@code nats-server} started by the test and three packaged
 * replicas (A and B trainer-eligible, C serve-only), each with its own data dir. Samples posted to
 * A reach every replica; a round asked for on C runs on the lease holder and every replica serves
 * its version, and the console of each lists all three with that version; a rollback on C is
 * followed by all; a round cancelled on C stops on the trainer; the trainer killed with kill -9
 * mid-round is replaced, its round recorded failed, no acknowledged sample is lost and the next
 * round promotes, after which the bucket keeps only the retained versions;
 * NATS killed and restarted never fails an inference, and the fleet converges afterwards.
 */
class FleetIT {

    private static final Duration CONVERGE = Duration.ofSeconds(60);
    private static final Duration ROUND = Duration.ofMinutes(2);
    private static final String LEARNING_ROUND = "{\"epochs\":8,\"batch_size\":32,\"learning_rate\":0.05,\"seed\":1}";
    private static final String INFER = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\","
            + "\"data\":[1,0,0,0]}]}";

    @TempDir
    Path dir;

    private NatsServer nats;
    private final List<PackagedApp> apps = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (PackagedApp app : apps) {
            app.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    private PackagedApp replica(Path artifacts, String name, String role) throws Exception {
        PackagedApp app = new PackagedApp("fleet-it");
        apps.add(app);
        startReplica(app, artifacts, name, role);
        return app;
    }

    private void startReplica(PackagedApp app, Path artifacts, String name, String role) throws Exception {
        app.start(artifacts, dir.resolve("data-" + name), name, List.of(
                "-Dmicrokernel.fleet.nats-url=" + nats.url(),
                "-Dmicrokernel.fleet.replica-id=" + name,
                "-Dmicrokernel.fleet.role=" + role,
                "-Dmicrokernel.fleet.lease-ttl=2s",
                "-Dmicrokernel.fleet.request-timeout=2s",
                "-Dmicrokernel.store.retain=2",
                "-Dquarkus.log.category.\"io.microkernel.fleet\".level=DEBUG"));
    }

    @Test
    void threeReplicasLearnAsOneAndSurviveATrainerAndNatsGoingAway() throws Exception {
        nats = NatsServer.start(java.nio.file.Files.createDirectories(Path.of("target", "fleet-it", "nats")));
        Path artifacts = PackagedApp.tinyClassifier(dir.resolve("artifacts"));
        PackagedApp a = replica(artifacts, "a", "trainer-eligible");
        await().atMost(CONVERGE).until(() -> leaseHolder().equals(Optional.of("a")));
        PackagedApp b = replica(artifacts, "b", "trainer-eligible");
        PackagedApp c = replica(artifacts, "c", "serve-only");

        // Samples posted to A are stored once in the stream and reach every replica's buffer.
        long acknowledged = a.postSamples(200, 1) + a.postSamples(200, 2);
        for (PackagedApp app : List.of(a, b, c)) {
            await().atMost(CONVERGE).until(() -> bufferTotal(app) == acknowledged);
        }

        // A round asked for on the serve-only replica runs on the trainer; everyone serves its version.
        long first = c.startRound(LEARNING_ROUND);
        await().atMost(ROUND).until(() -> isFinal(a.round(first).getString("state")));
        assertThat(a.round(first).getString("state")).isEqualTo("promoted");
        int promoted = a.round(first).getInt("promoted_version");
        assertThat(promoted).isEqualTo(2);
        for (PackagedApp app : List.of(a, b, c)) {
            await().atMost(CONVERGE).until(() -> servedVersion(app) == promoted);
            assertThat(c.round(first).getString("state")).isEqualTo("promoted");
        }
        // The console of any replica lists all three, each with the version it serves, from their heartbeats.
        for (String name : List.of("a", "b", "c")) {
            PackagedApp app = List.of(a, b, c).get(name.charAt(0) - 'a');
            await().atMost(CONVERGE).untilAsserted(() -> assertConsoleListsTheFleet(app, name, promoted));
        }
        consolePageListsTheFleet(c, promoted);

        // A rollback on C is followed by all three.
        given().port(c.port()).post("/v1/models/default/versions/1:activate").then().statusCode(200);
        for (PackagedApp app : List.of(a, b, c)) {
            await().atMost(CONVERGE).until(() -> servedVersion(app) == 1);
        }

        // A cancel asked on a replica that is not the trainer reaches it, with a single node's answers.
        given().port(c.port()).delete("/v1/models/default/rounds/" + first).then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("already finished"));
        given().port(c.port()).delete("/v1/models/default/rounds/999999").then().statusCode(404)
                .body("type", org.hamcrest.Matchers.endsWith("unknown-round"))
                .body("detail", org.hamcrest.Matchers.containsString("the trainer (replica a)"));
        long stopped = c.startRound("{\"epochs\":10000,\"batch_size\":4,\"learning_rate\":0.01}");
        given().port(c.port()).delete("/v1/models/default/rounds/" + stopped).then().statusCode(202)
                .body("id", org.hamcrest.Matchers.equalTo((int) stopped));
        await().atMost(ROUND).until(() -> "cancelled".equals(b.round(stopped).getString("state")));
        assertThat(a.round(stopped).getString("state")).isEqualTo("cancelled");

        // The trainer dies mid-round: B takes the lease over and records the round failed with the reason.
        long more = b.postSamples(200, 3);
        long doomed = b.startRound("{\"epochs\":10000,\"batch_size\":4,\"learning_rate\":0.01}");
        await().atMost(ROUND).until(() -> "running".equals(a.round(doomed).getString("state"))
                && a.round(doomed).getLong("progress.step") > 0);
        a.process().destroyForcibly().waitFor();
        await().atMost(Duration.ofSeconds(20)).until(() -> leaseHolder().equals(Optional.of("b")));
        await().atMost(CONVERGE).until(() -> "failed".equals(b.round(doomed).getString("state")));
        assertThat(b.round(doomed).getString("cause")).contains("lease");
        assertThat(bufferTotal(b)).as("no acknowledged sample lost").isEqualTo(acknowledged + more);

        long next = c.startRound(LEARNING_ROUND);
        await().atMost(ROUND).until(() -> isFinal(b.round(next).getString("state")));
        assertThat(b.round(next).getString("state")).isEqualTo("promoted");
        int third = b.round(next).getInt("promoted_version");
        assertThat(third).as("version numbers are the fleet's").isEqualTo(3);
        for (PackagedApp app : List.of(b, c)) {
            await().atMost(CONVERGE).until(() -> servedVersion(app) == third);
        }
        // The store's retention (2 versions here) applies to the fleet's bucket: 1 is gone, 2 and 3 stay.
        await().atMost(CONVERGE).until(() -> fleetVersions().equals(List.of(2, 3)));

        // A replica that was away catches up when it returns.
        startReplica(a, artifacts, "a", "trainer-eligible");
        await().atMost(CONVERGE).until(() -> servedVersion(a) == third);

        natsGoesAwayAndComesBack(List.of(a, b, c), b, c);
    }

    /** NATS killed while every replica answers inference: none fails; intake says 503; afterwards all converge. */
    private void natsGoesAwayAndComesBack(List<PackagedApp> all, PackagedApp activator, PackagedApp poster) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ok = new AtomicLong();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        for (PackagedApp app : all) {
            Thread client = new Thread(() -> {
                while (running.get()) {
                    Response r = given().port(app.port()).contentType(ContentType.JSON).body(INFER)
                            .post("/v2/models/default/infer");
                    if (r.statusCode() == 200) {
                        ok.incrementAndGet();
                    } else {
                        failures.add(app.port() + ": " + r.statusCode() + " " + r.asString());
                    }
                }
            });
            client.start();
            clients.add(client);
        }
        nats.kill();
        long before = ok.get();
        await().atMost(CONVERGE).until(() -> ok.get() > before + 300);
        given().port(poster.port()).contentType(ContentType.JSON)
                .body("{\"samples\":[{\"input\":[1,0,0,0],\"label\":0}]}").post("/v1/models/default/samples")
                .then().statusCode(503).header("Retry-After", org.hamcrest.Matchers.notNullValue());
        nats.start();
        // Converged: an activation on one replica after the outage reaches every one.
        await().atMost(CONVERGE).ignoreExceptions().until(() -> given().port(activator.port())
                .post("/v1/models/default/versions/2:activate").statusCode() == 200);
        for (PackagedApp app : all) {
            await().atMost(CONVERGE).until(() -> servedVersion(app) == 2);
        }
        running.set(false);
        for (Thread client : clients) {
            client.join();
        }
        assertThat(failures).as("inference never fails while NATS is away").isEmpty();
    }

    /**
     * The serving page of replica {@code c}'s console, in a real headless Chromium, shows a row per
     * replica with the version it serves, its role and who holds the trainer lease; skipped (saying
     * so) where Chromium is missing.
     */
    private void consolePageListsTheFleet(PackagedApp c, int version) throws Exception {
        if (!ConsoleBrowserIT.chromiumInstalled()) {
            System.out.println("FleetIT: the console page's fleet listing is not checked: " + ConsoleBrowserIT.chromiumMissing());
            return;
        }
        org.openqa.selenium.WebDriver browser = ConsoleBrowserIT.headlessChromium(dir.resolve("chromium"));
        try {
            browser.get("http://127.0.0.1:" + c.port() + "/console/#serving");
            org.openqa.selenium.By rows = org.openqa.selenium.By.cssSelector("#replicas tr[data-replica]");
            await().atMost(CONVERGE).ignoreException(org.openqa.selenium.StaleElementReferenceException.class)
                    .untilAsserted(() -> {
                        List<String> texts = browser.findElements(rows).stream().map(org.openqa.selenium.WebElement::getText).toList();
                        assertThat(texts).hasSize(3);
                        assertThat(texts.get(0)).startsWith("a").contains("v" + version, "trainer-eligible", "lease");
                        assertThat(texts.get(1)).startsWith("b").contains("v" + version, "trainer-eligible").doesNotContain("lease");
                        assertThat(texts.get(2)).startsWith("c (this one)").contains("v" + version, "serve-only");
                    });
        } finally {
            browser.quit();
        }
    }

    /** {@code /console/api/models/default/replicas} on {@code app} (replica {@code self}) lists a, b and c serving {@code version}. */
    private static void assertConsoleListsTheFleet(PackagedApp app, String self, int version) {
        io.restassured.path.json.JsonPath listing = given().port(app.port()).get("/console/api/models/default/replicas")
                .then().statusCode(200).extract().jsonPath();
        assertThat(listing.getString("mode")).isEqualTo("fleet");
        assertThat(listing.getList("replicas.name", String.class)).containsExactly("a", "b", "c");
        assertThat(listing.getList("replicas.version", Integer.class)).containsExactly(version, version, version);
        assertThat(listing.getList("replicas.self", Boolean.class)).containsExactly("a".equals(self), "b".equals(self),
                "c".equals(self));
        assertThat(listing.getList("replicas.role", String.class))
                .containsExactly("trainer-eligible", "trainer-eligible", "serve-only");
        assertThat(listing.getList("replicas.trainer", Boolean.class)).as("a holds the lease").containsExactly(true, false, false);
        assertThat(listing.getList("replicas.last_seen", String.class)).allSatisfy(t -> assertThat(t).isNotBlank());
    }

    private static int servedVersion(PackagedApp app) {
        return Integer.parseInt(given().port(app.port()).contentType(ContentType.JSON).body(INFER)
                .post("/v2/models/default/infer").then().statusCode(200).extract().jsonPath().getString("model_version"));
    }

    private static long bufferTotal(PackagedApp app) {
        return given().port(app.port()).get("/v1/models/default/samples").then().statusCode(200).extract().jsonPath()
                .getLong("total");
    }

    /** The replica holding the trainer lease, read from NATS itself. */
    private Optional<String> leaseHolder() throws Exception {
        try (Connection connection = Nats.connect(nats.url())) {
            KeyValue lease = connection.keyValue("mk-lease-default");
            KeyValueEntry entry = lease.get("trainer");
            return entry == null || entry.getValue() == null ? Optional.empty() : Optional.of(entry.getValueAsString());
        } catch (io.nats.client.JetStreamApiException e) {
            return Optional.empty();
        }
    }

    /** The complete versions (those with a manifest) in the fleet's bucket, read from NATS itself. */
    private List<Integer> fleetVersions() throws Exception {
        try (Connection connection = Nats.connect(nats.url())) {
            return connection.objectStore("mk-versions-default").getList().stream().filter(i -> !i.isDeleted())
                    .map(io.nats.client.api.ObjectInfo::getObjectName).filter(n -> n.endsWith("/manifest.json"))
                    .map(n -> Integer.parseInt(n.substring(0, n.indexOf('/')))).sorted().toList();
        }
    }

    private static boolean isFinal(String state) {
        return !"queued".equals(state) && !"running".equals(state);
    }
}

package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.http.ContentType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile but honest clients against the packaged application: floods of big bodies full of tiny
 * numbers at {@code -Xmx512m}, uploads that stall after the headers, and bodies declared too large.
 * The process must refuse them with 4xx, stay alive with bounded memory and keep answering inference.
 */
class HostileClientsIT {

    /** Just under {@code quarkus.http.limits.max-body-size=8M}, so the size limit alone refuses nothing. */
    private static final int HOSTILE_BYTES = 8 * 1024 * 1024 - 4096;
    private static final int CONCURRENT = 8;
    private static final int WAVES = 3;
    /** The heap is 512 MiB; the bound leaves room for metaspace, threads, ONNX Runtime and the bodies' direct buffers. */
    static final long RSS_BOUND_KIB = 1_100 * 1024;
    private static final String NORMAL = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\","
            + "\"data\":[0.1,0.2,0.3,0.4]}]}";

    @TempDir
    Path dir;

    private PackagedApp app;

    @AfterEach
    void stop() throws InterruptedException {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void eightConcurrentHostileBodiesAreRefusedWith4xxAndMemoryStaysBounded() throws Exception {
        app = new PackagedApp("hostile-clients-it");
        app.start(PackagedApp.tinyClassifier(dir.resolve("artifacts")), dir.resolve("data"), "memory");
        List<byte[]> bodies = List.of(
                oip("{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":", "]}]}"),
                oip("{\"name\":\"input\",\"shape\":[1000000,4],\"datatype\":\"FP32\",\"data\":", "]}]}"),
                oip("{\"name\":\"input\",\"data\":", ",\"shape\":[1,4],\"datatype\":\"FP32\"}]}"),
                hostile("{\"instances\":[", "]}", "0"),
                hostile("{\"instances\":[[", "]]}", "0.5"),
                hostile("{\"samples\":[", "]}", "{}"));
        long pid = app.process().pid();
        AtomicLong peakKib = new AtomicLong();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> peakKib.accumulateAndGet(rssKib(pid), Math::max), 0, 20, TimeUnit.MILLISECONDS);
        List<Integer> statuses = new ArrayList<>();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT);
        try {
            for (int wave = 0; wave < WAVES; wave++) {
                List<Future<Integer>> answers = new ArrayList<>();
                for (int i = 0; i < CONCURRENT; i++) {
                    byte[] body = bodies.get((wave * CONCURRENT + i) % bodies.size());
                    String path = new String(body, 0, 16, StandardCharsets.US_ASCII).contains("samples")
                            ? "/v1/models/default/samples"
                            : new String(body, 0, 16, StandardCharsets.US_ASCII).contains("instances")
                            ? "/v1/models/default:predict" : "/v2/models/default/infer";
                    answers.add(pool.submit(() -> post(client, path, body)));
                }
                for (Future<Integer> answer : answers) {
                    statuses.add(answer.get());
                }
            }
        } finally {
            pool.shutdownNow();
            sampler.shutdownNow();
            sampler.awaitTermination(10, TimeUnit.SECONDS);
        }
        assertThat(statuses).hasSize(CONCURRENT * WAVES).allSatisfy(s -> assertThat(s).isBetween(400, 499));
        assertThat(app.process().isAlive()).as("the process survives; see %s", app.log()).isTrue();
        given().port(app.port()).contentType(ContentType.JSON).body(NORMAL).post("/v2/models/default/infer")
                .then().statusCode(200);
        assertThat(peakKib.get()).as("peak VmRSS in KiB under %d hostile bodies", CONCURRENT * WAVES)
                .isPositive().isLessThan(RSS_BOUND_KIB);
        Files.writeString(Path.of("target", "hostile-clients-it", "memory.txt"), "bodies=" + statuses.size()
                + " statuses=" + statuses + " peakVmRssKiB=" + peakKib.get() + " boundKiB=" + RSS_BOUND_KIB + "\n");
    }

    @Test
    void stalledUploadsHoldNoWorkerAndAreCutOffAtTheBodyTimeout() throws Exception {
        app = new PackagedApp("hostile-clients-it");
        // Four workers: under blocking body reads, eight stalled uploads would hold every one of them.
        app.start(PackagedApp.tinyClassifier(dir.resolve("artifacts")), dir.resolve("data"), "stalled",
                List.of("-Dquarkus.thread-pool.max-threads=4", "-Dmicrokernel.serving.body-timeout=6s",
                        "-Dmicrokernel.serving.max-bytes-in-flight=2M"));
        List<Socket> stalled = new ArrayList<>();
        long opened = System.nanoTime();
        try {
            for (int i = 0; i < 8; i++) {
                stalled.add(stall("/v2/models/default/infer", 100_000, 30_000));
            }
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> answer = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + app.port()
                    + "/v2/models/default/infer")).timeout(Duration.ofSeconds(3)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(NORMAL)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as("inference while 8 uploads stall: %s", answer.body()).isEqualTo(200);

            // 800 KB of stalled bodies in flight: one more declaring 1.5 MB does not fit into 2 MB.
            try (Socket over = stall("/v2/models/default/infer", 1_500_000, 0)) {
                String refused = readAll(over);
                assertThat(refused).startsWith("HTTP/1.1 429").containsIgnoringCase("Retry-After: 1")
                        .contains("max-bytes-in-flight");
            }
            for (Socket socket : stalled) {
                String cut = readAll(socket);
                assertThat(cut).startsWith("HTTP/1.1 408").contains("body-timeout");
            }
            Duration took = Duration.ofNanos(System.nanoTime() - opened);
            assertThat(took).as("every stalled upload answered and closed").isLessThan(Duration.ofSeconds(15));
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    @Test
    void aBodyDeclaredTooLargeIsAnswered413AndTheConnectionIsClosed() throws Exception {
        app = new PackagedApp("hostile-clients-it");
        app.start(PackagedApp.tinyClassifier(dir.resolve("artifacts")), dir.resolve("data"), "too-large");
        try (Socket socket = stall("/v2/models/default/infer", 9 * 1024 * 1024, 1000)) {
            String answer = readAll(socket);
            assertThat(answer).startsWith("HTTP/1.1 413").containsIgnoringCase("connection: close");
        }
    }

    @Test
    void clientsThatLeaveEarlyAreNeitherErrorsNor500s() throws Exception {
        app = new PackagedApp("hostile-clients-it");
        app.start(PackagedApp.tinyClassifier(dir.resolve("artifacts")), dir.resolve("data"), "disconnects");
        StringBuilder samples = new StringBuilder("{\"samples\":[");
        for (int i = 0; i < 40; i++) {
            samples.append(i == 0 ? "" : ",").append("{\"input\":[0.1,0.2,0.3,").append(i % 3).append("],\"label\":")
                    .append(i % 3).append('}');
        }
        given().port(app.port()).contentType(ContentType.JSON).body(samples.append("]}").toString())
                .post("/v1/models/default/samples").then().statusCode(202);
        long round = given().port(app.port()).contentType(ContentType.JSON).body("{\"epochs\":10000,\"batch_size\":4}")
                .post("/v1/models/default/rounds").then().statusCode(202).extract().jsonPath().getLong("id");
        try (Socket events = new Socket("localhost", app.port())) {
            events.setSoTimeout(20_000);
            events.getOutputStream().write(("GET /v1/models/default/rounds/" + round + "/events HTTP/1.1\r\nHost: localhost\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(events.getInputStream().read(new byte[512])).isPositive();
        }
        long stepAtDisconnect = step(round);
        // Progress events keep coming for the stream whose client has gone.
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> step(round) > stepAtDisconnect + 20);
        try (Socket half = stall("/v2/models/default/infer", 100_000, 50_000)) {
            half.setSoLinger(true, 0); // a reset, as a client killed mid-upload sends
        }
        given().port(app.port()).delete("/v1/models/default/rounds/" + round).then().statusCode(org.hamcrest.Matchers.lessThan(300));
        given().port(app.port()).contentType(ContentType.JSON).body(NORMAL).post("/v2/models/default/infer")
                .then().statusCode(200);
        String metrics = given().port(app.port()).get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).as("requests counted as server errors").doesNotContain("status=\"500\"");
        assertThat(Files.readAllLines(app.log())).as("log lines at ERROR; see %s", app.log())
                .noneMatch(line -> line.contains(" ERROR "));
    }

    /** The round's step, 0 while it has not reported progress yet (it may still be starting). */
    private long step(long round) {
        Number step = given().port(app.port()).get("/v1/models/default/rounds/" + round).then().statusCode(200)
                .extract().path("progress.step");
        return step == null ? 0 : step.longValue();
    }

    /** Opens a POST declaring {@code declared} bytes, sends {@code sent} of them and stops. */
    private Socket stall(String path, int declared, int sent) throws IOException {
        Socket socket = new Socket("localhost", app.port());
        socket.setSoTimeout(20_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + declared + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        byte[] part = new byte[sent];
        java.util.Arrays.fill(part, (byte) ' ');
        if (sent > 0) {
            part[0] = '{';
        }
        out.write(part);
        out.flush();
        return socket;
    }

    /** Everything the server sends until it closes the connection (a read timeout fails the test). */
    private static String readAll(Socket socket) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                bytes.write(buffer, 0, n);
            }
        } catch (java.net.SocketException e) {
            // A reset after the answer: the server closed while unread bytes were in flight.
        }
        return bytes.toString(StandardCharsets.ISO_8859_1);
    }

    private int post(HttpClient client, String path, byte[] body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + path))
                .timeout(Duration.ofMinutes(2)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static byte[] oip(String input, String tail) {
        return hostile("{\"inputs\":[" + input + "[", tail, "0");
    }

    /** {@code head}, then tiny {@code element}s separated by commas up to {@link #HOSTILE_BYTES}, then {@code tail}. */
    private static byte[] hostile(String head, String tail, String element) {
        StringBuilder text = new StringBuilder(HOSTILE_BYTES).append(head).append(element);
        while (text.length() + element.length() + 1 + tail.length() < HOSTILE_BYTES) {
            text.append(',').append(element);
        }
        return text.append(tail).toString().getBytes(StandardCharsets.US_ASCII);
    }

    static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The process is gone; the liveness assertion says so.
        }
        return 0;
    }
}

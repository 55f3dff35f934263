package io.microkernel.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM while clients keep asking for predictions: every request the server took on is answered
 * in full with a 200, even one whose body is still on its way when the signal arrives (the stop
 * waits for it, within {@code quarkus.shutdown.timeout}); once the server has stopped listening,
 * requests are refused at the connection, never cut off mid-answer and never answered with a 5xx;
 * and the process exits with the status of a SIGTERM stop.
 *
 * <p>Raw sockets rather than an HTTP client, so that "no answer at all" and "half an answer" can
 * be told apart: one connection per request, {@code Connection: close}, read to the end.
 */
class GracefulShutdownIT {

    /** The JVM's status after running its shutdown hooks for SIGTERM: 128 + 15. */
    private static final int SIGTERM_EXIT = 143;
    private static final int CLIENTS = 4;
    /** What Quarkus logs when a stop begins and it starts waiting for open requests. */
    private static final String DRAINING = "Waiting for HTTP requests to complete";
    private static final Duration WAIT = Duration.ofMinutes(1);
    private static final String BODY =
            "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,0,0,0]}]}";

    @TempDir
    Path dir;

    private PackagedApp app;

    /** What one request got. */
    private enum Kind { ANSWERED, REFUSED, CUT_OFF }

    /**
     * @param endedAfterSigterm whether the signal had been sent by the time the request was over;
     *                          only a request that ended before it is sure to have been served
     *                          entirely before shutdown began
     */
    private record Outcome(Kind kind, int status, String body, boolean endedAfterSigterm) {

        Outcome ended(boolean afterSigterm) {
            return new Outcome(kind, status, body, afterSigterm);
        }

        boolean isPrediction() {
            return kind == Kind.ANSWERED && status == 200 && body.contains("\"probabilities\"");
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (app != null) {
            app.close();
        }
    }

    /**
     * The other way the process ends: {@code --help} and a wrong command line answer and exit without
     * starting the server. The HTTP port is held by this test, so a server that started anyway would
     * fail to bind and exit with 1, or keep running.
     */
    @Test
    void helpAndWrongCommandLinesExitWithoutServing() throws Exception {
        app = new PackagedApp("graceful-shutdown-it");
        try (ServerSocket taken = new ServerSocket(app.port())) {
            PackagedApp.Finished help = app.runToEnd("help", "--help");
            assertThat(help.exitCode()).as(help.output()).isZero();
            assertThat(help.output()).startsWith("Usage: onnx-microkernel [-hV] [COMMAND]").contains("serve", "artifacts")
                    .doesNotContain("Listening on");

            PackagedApp.Finished wrong = app.runToEnd("bogus", "--bogus");
            assertThat(wrong.exitCode()).as(wrong.output()).isEqualTo(2);
            assertThat(wrong.output()).contains("Unknown option: '--bogus'", "Usage: onnx-microkernel")
                    .doesNotContain("Listening on");
        }
    }

    @Test
    void sigtermAnswersEveryAcceptedRequestAndTurnsLaterOnesAwayCleanly() throws Exception {
        Path artifacts = PackagedApp.tinyClassifier(dir.resolve("artifacts"));
        app = new PackagedApp("graceful-shutdown-it");
        app.start(artifacts, dir.resolve("data"), "only");

        AtomicBoolean sigtermSent = new AtomicBoolean();
        AtomicBoolean clientsRun = new AtomicBoolean(true);
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        // A request in flight at the signal: the server has its headers (it said 100 Continue) but
        // not yet its body, so it cannot have finished it before the signal.
        try (Socket held = connect()) {
            OutputStream heldOut = held.getOutputStream();
            heldOut.write(headers(BODY, "Expect: 100-continue\r\n"));
            heldOut.flush();
            assertThat(readInterimStatusLine(held.getInputStream())).startsWith("HTTP/1.1 100");

            for (int i = 0; i < CLIENTS; i++) {
                Thread client = new Thread(() -> {
                    while (clientsRun.get()) {
                        outcomes.add(infer().ended(sigtermSent.get()));
                    }
                }, "client-" + i);
                client.start();
                clients.add(client);
            }
            await().atMost(WAIT).until(() -> count(outcomes, Kind.ANSWERED) >= 20);

            sigtermSent.set(true);
            app.process().destroy();

            // Shutdown has begun, in Quarkus's own words, and the process waits for the held request.
            await().atMost(WAIT).until(() -> Files.readString(app.log()).contains(DRAINING));
            assertThat(app.process().isAlive()).as("the process waits for the request it took on").isTrue();

            heldOut.write(BODY.getBytes(StandardCharsets.UTF_8));
            heldOut.flush();
            Outcome heldAnswer = readResponse(held.getInputStream());
            assertThat(heldAnswer.kind()).isEqualTo(Kind.ANSWERED);
            assertThat(heldAnswer.status()).isEqualTo(200);
            assertThat(heldAnswer.body()).contains("\"model_version\":\"1\"").contains("\"probabilities\"");

            assertThat(app.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the process exits").isTrue();
            clientsRun.set(false);
            for (Thread client : clients) {
                client.join();
            }
            assertThat(app.process().exitValue()).isEqualTo(SIGTERM_EXIT);
        }

        List<Outcome> all = List.copyOf(outcomes);
        assertThat(all).as("no request is cut off mid-answer").noneMatch(o -> o.kind() == Kind.CUT_OFF);
        assertThat(all).filteredOn(o -> !o.endedAfterSigterm())
                .as("before the signal every request is answered with a prediction")
                .allMatch(Outcome::isPrediction);
        assertThat(all).filteredOn(o -> o.kind() == Kind.ANSWERED)
                .as("every answer, during the stop too, is a prediction")
                .allMatch(Outcome::isPrediction);
    }

    private static long count(ConcurrentLinkedQueue<Outcome> outcomes, Kind kind) {
        return outcomes.stream().filter(o -> o.kind() == kind).count();
    }

    private Outcome infer() {
        Socket socket;
        try {
            socket = connect();
        } catch (IOException e) {
            // Nothing is listening any more: the connection is refused before a byte is sent.
            return new Outcome(Kind.REFUSED, 0, e.toString(), false);
        }
        try (socket) {
            socket.getOutputStream().write(headers(BODY, ""));
            socket.getOutputStream().write(BODY.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return readResponse(socket.getInputStream());
        } catch (IOException e) {
            // Reset before any answer: the server never took the request on.
            return new Outcome(Kind.REFUSED, 0, e.toString(), false);
        }
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", app.port()), 10_000);
        // A safety net against a hung read, not a measure of speed.
        socket.setSoTimeout((int) WAIT.toMillis());
        return socket;
    }

    private static byte[] headers(String body, String extra) {
        return ("POST /v2/models/default/infer HTTP/1.1\r\n"
                + "Host: localhost\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n"
                + "Connection: close\r\n"
                + extra
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static String readInterimStatusLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.write(b);
        }
        // The blank line that ends the interim 100 response.
        while ((b = in.read()) != -1 && b != '\n') {
            // skipped: nothing follows the status line of a 100 Continue
        }
        return line.toString(StandardCharsets.US_ASCII).trim();
    }

    /**
     * Reads a response to the end of the connection. No byte at all means the request was never
     * taken on; a status line without its whole body means it was cut off.
     */
    private static Outcome readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try {
            in.transferTo(received);
        } catch (IOException e) {
            if (received.size() == 0) {
                throw e;
            }
            return new Outcome(Kind.CUT_OFF, 0, received.toString(StandardCharsets.UTF_8), false);
        }
        String text = received.toString(StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            return new Outcome(Kind.REFUSED, 0, "closed without an answer", false);
        }
        int headerEnd = text.indexOf("\r\n\r\n");
        Matcher status = Pattern.compile("^HTTP/1\\.1 (\\d{3}) ").matcher(text);
        if (headerEnd < 0 || !status.find()) {
            return new Outcome(Kind.CUT_OFF, 0, text, false);
        }
        String head = text.substring(0, headerEnd).toLowerCase(Locale.ROOT);
        String body = text.substring(headerEnd + 4);
        Matcher length = Pattern.compile("\r\ncontent-length: *(\\d+)").matcher(head);
        boolean complete = length.find()
                ? body.getBytes(StandardCharsets.UTF_8).length == Integer.parseInt(length.group(1))
                : head.contains("\r\ntransfer-encoding: chunked") && body.endsWith("0\r\n\r\n");
        return new Outcome(complete ? Kind.ANSWERED : Kind.CUT_OFF, Integer.parseInt(status.group(1)), body, false);
    }
}

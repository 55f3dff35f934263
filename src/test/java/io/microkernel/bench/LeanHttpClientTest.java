package io.microkernel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's lean saturation client against real servers: the JDK's HTTP server for status
 * codes, keep-alive and a body longer than the client's read buffer, and a scripted socket server
 * for answers split into pieces, {@code Connection: close} and a chunked answer.
 */
class LeanHttpClientTest {

    private HttpServer jdk;
    private ServerSocket scripted;
    private ExecutorService pool;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws IOException {
        if (jdk != null) {
            jdk.stop(0);
        }
        if (scripted != null) {
            scripted.close();
        }
        for (Socket socket : accepted) {
            socket.close();
        }
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    /** A JDK server on a free port: {@code /echo} answers 200 with the body, {@code /big} 1 MiB, anything else 404. */
    private URI startJdkServer() throws IOException {
        jdk = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        pool = Executors.newFixedThreadPool(2);
        jdk.setExecutor(pool);
        jdk.createContext("/", exchange -> {
            byte[] request = exchange.getRequestBody().readAllBytes();
            String path = exchange.getRequestURI().getPath();
            byte[] answer;
            int status;
            if (path.equals("/echo")) {
                status = 200;
                answer = request;
            } else if (path.equals("/big")) {
                status = 200;
                answer = new byte[1 << 20];
                for (int i = 0; i < answer.length; i++) {
                    answer[i] = (byte) (i % 251);
                }
            } else {
                status = 404;
                answer = ("{\"error\":\"no " + path + "\"}").getBytes(StandardCharsets.UTF_8);
            }
            exchange.sendResponseHeaders(status, answer.length == 0 ? -1 : answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        jdk.start();
        return URI.create("http://127.0.0.1:" + jdk.getAddress().getPort());
    }

    @Test
    void readsStatusAndBodyOfEachAnswerOverOneKeptAliveConnection() throws IOException {
        URI base = startJdkServer();
        byte[] body = "{\"inputs\":[1,2,3]}".getBytes(StandardCharsets.UTF_8);
        byte[] echo = LeanHttpClient.request("POST", base, "/echo", body, "Content-Type", "application/json");
        byte[] missing = LeanHttpClient.request("POST", base, "/nowhere", body);

        try (LeanHttpClient client = new LeanHttpClient(base)) {
            for (int i = 0; i < 5; i++) {
                assertThat(client.exchange(echo)).isEqualTo(200);
                assertThat(client.bodyText()).isEqualTo("{\"inputs\":[1,2,3]}");
                assertThat(client.bodyContains("\"inputs\"".getBytes(StandardCharsets.UTF_8))).isTrue();
                assertThat(client.bodyContains("\"outputs\"".getBytes(StandardCharsets.UTF_8))).isFalse();

                assertThat(client.exchange(missing)).isEqualTo(404);
                assertThat(client.bodyText()).isEqualTo("{\"error\":\"no /nowhere\"}");
            }
            // Ten answers, every body read to its end, so every next request found the connection clean.
            assertThat(client.connectionsOpened()).isEqualTo(1);
        }
    }

    @Test
    void readsABodyLongerThanItsBufferOverManyReads() throws IOException {
        URI base = startJdkServer();
        byte[] big = LeanHttpClient.request("GET", base, "/big", null);
        byte[] echo = LeanHttpClient.request("POST", base, "/echo", "after".getBytes(StandardCharsets.UTF_8));

        try (LeanHttpClient client = new LeanHttpClient(base)) {
            assertThat(client.exchange(big)).isEqualTo(200);
            assertThat(client.bodyLength()).isEqualTo(1 << 20);
            byte[] got = Arrays.copyOf(client.body(), client.bodyLength());
            for (int i = 0; i < got.length; i++) {
                if (got[i] != (byte) (i % 251)) {
                    throw new AssertionError("byte " + i + ": expected " + (i % 251) + ", found " + got[i]);
                }
            }
            assertThat(client.exchange(echo)).isEqualTo(200);
            assertThat(client.bodyText()).isEqualTo("after");
            assertThat(client.connectionsOpened()).isEqualTo(1);
        }
    }

    /**
     * A socket server that answers every request on a connection with {@code script(n)} for the
     * n-th request overall, written piece by piece with a flush after each piece.
     */
    private URI startScriptedServer(Function<Integer, List<String>> script) throws IOException {
        scripted = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool = Executors.newCachedThreadPool();
        AtomicInteger requests = new AtomicInteger();
        pool.submit(() -> {
            while (!scripted.isClosed()) {
                Socket socket = scripted.accept();
                accepted.add(socket);
                socket.setTcpNoDelay(true);
                pool.submit(() -> serve(socket, script, requests));
            }
            return null;
        });
        return URI.create("http://127.0.0.1:" + scripted.getLocalPort());
    }

    private static Void serve(Socket socket, Function<Integer, List<String>> script, AtomicInteger requests) throws IOException {
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        while (readRequestHead(in)) {
            List<String> pieces = script.apply(requests.incrementAndGet());
            for (String piece : pieces) {
                out.write(piece.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            if (String.join("", pieces).contains("Connection: close")) {
                socket.close();
                return null;
            }
        }
        socket.close();
        return null;
    }

    /** Reads one request without a body (the scripted tests send GETs); false at the end of the stream. */
    private static boolean readRequestHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return true;
            }
        }
        return false;
    }

    @Test
    void readsAnAnswerWrittenInPiecesThatSplitHeadersAndBody() throws IOException {
        URI base = startScriptedServer(n -> List.of("HTTP/1.1 2", "01 Created\r\nconTent-LENGTH", ": 11\r\nX-A: b\r",
                "\n\r\nhello", " world"));
        byte[] get = LeanHttpClient.request("GET", base, "/", null);

        try (LeanHttpClient client = new LeanHttpClient(base)) {
            for (int i = 0; i < 3; i++) {
                assertThat(client.exchange(get)).isEqualTo(201);
                assertThat(client.bodyText()).isEqualTo("hello world");
            }
            assertThat(client.connectionsOpened()).isEqualTo(1);
        }
    }

    @Test
    void opensANewConnectionAfterTheServerSaysClose() throws IOException {
        URI base = startScriptedServer(n -> List.of("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                + "Content-Length: 4\r\n\r\nbusy"));
        byte[] get = LeanHttpClient.request("GET", base, "/", null);

        try (LeanHttpClient client = new LeanHttpClient(base)) {
            assertThat(client.exchange(get)).isEqualTo(503);
            assertThat(client.bodyText()).isEqualTo("busy");
            assertThat(client.exchange(get)).isEqualTo(503);
            assertThat(client.connectionsOpened()).isEqualTo(2);
        }
    }

    @Test
    void refusesAnAnswerWithoutALength() throws IOException {
        URI base = startScriptedServer(n -> List.of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        byte[] get = LeanHttpClient.request("GET", base, "/", null);

        try (LeanHttpClient client = new LeanHttpClient(base)) {
            assertThatThrownBy(() -> client.exchange(get)).isInstanceOf(IOException.class)
                    .hasMessageContaining("expected a Content-Length body, found 'Transfer-Encoding: chunked'");
        }
    }

    @Test
    void refusesAnAnswerCutShortByTheServer() throws IOException {
        URI base = startScriptedServer(n -> List.of("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc"));
        byte[] get = LeanHttpClient.request("GET", base, "/", null);

        try (LeanHttpClient client = new LeanHttpClient(base)) {
            assertThatThrownBy(() -> client.exchange(get)).isInstanceOf(IOException.class)
                    .hasMessageContaining("expected a body of 10 bytes, found 3");
        }
    }
}

package io.microkernel.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code nats-server} with JetStream on a free loopback port and its own storage folder,
 * for fleet tests: start, stop (kill -9 or clean) and start again on the same port and storage.
 * Tests are skipped, saying why, where {@code nats-server} is not installed.
 */
public final class NatsServer implements AutoCloseable {

    private final Path storage;
    private final Path log;
    private final int port;
    private Process process;

    private NatsServer(Path storage, Path log, int port) {
        this.storage = storage;
        this.log = log;
        this.port = port;
    }

    /** Starts a server storing under {@code dir}; skips the test when {@code nats-server} is missing. */
    public static NatsServer start(Path dir) throws IOException {
        Assumptions.assumeTrue(installed(), "nats-server is not installed (apt-get install nats-server); fleet tests"
                + " need a real one");
        Path storage = dir.resolve("jetstream");
        if (Files.exists(storage)) {
            try (var old = Files.walk(storage)) {
                old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        NatsServer server = new NatsServer(Files.createDirectories(storage), dir.resolve("nats.log"), freePort());
        server.start();
        return server;
    }

    static boolean installed() {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(folder, "nats-server"))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin/nats-server"));
    }

    /** Starts (again) on the same port and storage; returns once it accepts connections. */
    public void start() throws IOException {
        String binary = Files.isExecutable(Path.of("/usr/sbin/nats-server")) ? "/usr/sbin/nats-server" : "nats-server";
        process = new ProcessBuilder(List.of(binary, "-a", "127.0.0.1", "-p", Integer.toString(port), "-js",
                "-sd", storage.toString())).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(this::accepts);
    }

    /** Kills the server at once (kill -9). */
    public void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    public String url() {
        return "nats://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    private boolean accepts() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

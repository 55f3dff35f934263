package io.microkernel.testing;

import static org.awaitility.Awaitility.await;

import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.FleetSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real {@code nats-server} for one test, and the fleet parts the test opened against it: closed
 * newest first, then the server. Tests without {@code nats-server} are skipped ({@link NatsServer#start}).
 */
public final class FleetFixture implements AutoCloseable {

    private final NatsServer nats;
    private final List<AutoCloseable> open = new ArrayList<>();

    private FleetFixture(NatsServer nats) {
        this.nats = nats;
    }

    /** Starts a server with its storage under {@code dir}. */
    public static FleetFixture start(Path dir) throws Exception {
        return new FleetFixture(NatsServer.start(dir));
    }

    /** The server, for tests that kill and restart it. */
    public NatsServer nats() {
        return nats;
    }

    /**
     * A fleet member for {@code model}, connected, with short test timings (lease 1 s, requests 2 s,
     * duplicate window 2 min); closed with the fixture.
     */
    public Fleet fleet(String model, String replica, boolean trainerEligible, int maxSamples) {
        Fleet fleet = keep(Fleet.open(new FleetSettings(nats.url(), model, replica, trainerEligible, Duration.ofSeconds(1),
                Duration.ofSeconds(2), maxSamples, Duration.ofMinutes(2), "")));
        await().atMost(Duration.ofSeconds(10)).until(fleet.connection()::isConnected);
        return fleet;
    }

    /** Closes {@code part} with the fixture, before what was kept earlier. */
    public <T extends AutoCloseable> T keep(T part) {
        open.add(0, part);
        return part;
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable part : open) {
            part.close();
        }
        nats.close();
    }
}

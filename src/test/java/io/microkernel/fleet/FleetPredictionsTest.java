package io.microkernel.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.microkernel.testing.FleetFixture;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fleet's prediction log against a real nats-server that the test starts and kills. */
class FleetPredictionsTest {

    @TempDir
    Path dir;

    private FleetFixture fleets;

    @BeforeEach
    void startNats() throws Exception {
        fleets = FleetFixture.start(dir);
    }

    @AfterEach
    void stopAll() throws Exception {
        if (fleets != null) {
            fleets.close();
        }
    }

    private FleetPredictions predictions(String replica) {
        Fleet fleet = fleets.fleet("m.1", replica, false, 10);
        FleetPredictions predictions = new FleetPredictions(fleet.connection(), Duration.ofMinutes(30), 100, 1 << 20);
        fleets.keep(predictions);
        return predictions;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRecordSharedByOneReplicaIsFoundByAnotherAndALaterOneReplacesIt() throws Exception {
        FleetPredictions a = predictions("a");
        FleetPredictions b = predictions("b");
        // Ids may hold any character: the subject uses a hash of the id.
        String id = "req 17.*>/ü";
        assertThat(a.share(id, bytes("first"))).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.shared() == 1);
        assertThat(b.find(id)).hasValueSatisfying(v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("first"));
        assertThat(b.find("req 17")).isEmpty();

        assertThat(a.share(id, bytes("second"))).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.shared() == 2);
        assertThat(b.find(id)).hasValueSatisfying(v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("second"));

        try (var connection = io.nats.client.Nats.connect(fleets.nats().url())) {
            StreamConfiguration config = connection.jetStreamManagement().getStreamInfo(a.stream()).getConfiguration();
            assertThat(config.getMaxAge()).as("the log's retention").isEqualTo(Duration.ofMinutes(30));
            assertThat(config.getMaxMsgsPerSubject()).as("the newest record per id").isEqualTo(1);
            assertThat(config.getMaxMsgs()).isEqualTo(100);
            assertThat(config.getMaxBytes()).isEqualTo(1 << 20);
            assertThat(config.getDiscardPolicy()).as("the oldest go first").isEqualTo(DiscardPolicy.Old);
            assertThat(connection.jetStreamManagement().getStreamInfo(a.stream()).getStreamState().getMsgCount())
                    .isEqualTo(1);
        }
    }

    @Test
    void withNatsDownARecordIsDroppedAndCountedAndALookupSaysNatsIsUnreachable() throws Exception {
        FleetPredictions a = predictions("a");
        fleets.nats().kill();
        await().atMost(Duration.ofSeconds(20)).until(() -> !a.share("x", bytes("lost")));
        assertThat(a.dropped()).isGreaterThanOrEqualTo(1);
        assertThatThrownBy(() -> a.find("x")).isInstanceOf(FleetUnavailableException.class)
                .hasMessageContaining("expected a connection to NATS, found none");
    }
}

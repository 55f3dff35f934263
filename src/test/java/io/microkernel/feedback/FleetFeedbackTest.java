package io.microkernel.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.IntNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.fleet.Fleet;
import io.microkernel.fleet.FleetPredictions;
import io.microkernel.fleet.FleetUnavailableException;
import io.microkernel.serving.Classification;
import io.microkernel.serving.Prediction;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.testing.FleetFixture;
import io.microkernel.training.FeedbackLedger;
import io.microkernel.training.LabelDomain;
import io.microkernel.training.SampleLabel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet mode: a prediction served and logged by replica A is labelled through replica B, which never
 * saw it. Each replica is the objects the service builds (its fleet connection, the fleet's
 * prediction stream, its own prediction log and feedback), against a real nats-server.
 */
class FleetFeedbackTest {

    @TempDir
    Path dir;

    private static LabelDomain labels;
    private FleetFixture fleets;

    /** One replica as FeedbackBeans builds it in fleet mode. */
    private record Replica(Fleet fleet, FleetPredictions predictions, PredictionLog log, Feedback feedback) {
    }

    @BeforeAll
    static void labels() {
        labels = new LabelDomain(ArtifactSet.open(Path.of("models", "default")).description());
    }

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

    private Replica replica(String name) {
        Fleet fleet = fleets.fleet("default", name, false, 100);
        FleetPredictions predictions = new FleetPredictions(fleet.connection(), Duration.ofHours(1), 1000, 1 << 24);
        PredictionLog log = PredictionLog.open(dir.resolve(name), new PredictionLog.Settings(Duration.ofHours(1), 1.0,
                1000), Clock.systemUTC(), Optional.of(FeedbackBeans.shared(predictions)));
        Feedback feedback = new Feedback(Optional.of(log), new FeedbackMetrics(new SimpleMeterRegistry(), "default"),
                FeedbackLedger.NONE, Optional.of(predictions));
        fleets.keep(feedback);
        return new Replica(fleet, predictions, log, feedback);
    }

    private static List<NamedTensor> inputs(float value) {
        return List.of(new NamedTensor("input", Tensor.ofFloats(new long[] {2, 3}, value, 0, 1, -value, 2, 3)));
    }

    private static Prediction predicted(int version, int first, int second) {
        return new Prediction(version, List.of(), List.of(new Classification(first, "c" + first, new double[0]),
                new Classification(second, "c" + second, new double[0])));
    }

    @Test
    void aPredictionServedByReplicaAIsLabelledThroughReplicaB() {
        Replica a = replica("a");
        Replica b = replica("b");
        a.feedback().served("req-a-1", inputs(7f), predicted(4, 5, 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.predictions().shared() == 1);

        List<Feedback.Resolved> resolved = b.feedback().resolve(List.of(
                new FeedbackItem("req-a-1", 1, IntNode.valueOf(2)),
                new FeedbackItem("never-served", null, IntNode.valueOf(0))), labels);
        Feedback.Resolved labelled = resolved.get(0);
        assertThat(labelled.error()).isNull();
        assertThat(labelled.version()).as("the version that served it on replica A").isEqualTo(4);
        assertThat(labelled.predicted()).isEqualTo(1);
        assertThat(labelled.sample().inputs().get("input")).isEqualTo(Tensor.ofFloats(new long[] {3}, -7f, 2, 3));
        assertThat(labelled.sample().label()).isEqualTo(new SampleLabel.ClassIndex(2));
        assertThat(resolved.get(1).error()).contains("unknown or expired prediction id 'never-served'")
                .contains("on any replica");
        assertThat(b.log().size()).as("B's own log holds nothing: it found the prediction in the fleet's").isZero();
    }

    @Test
    void withNatsDownAReplicaLogsLocallyAndALookupElsewhereAnswersUnavailable() throws Exception {
        Replica a = replica("a");
        Replica b = replica("b");
        fleets.nats().kill();
        await().atMost(Duration.ofSeconds(20)).until(() -> !a.fleet().connection().isConnected()
                && !b.fleet().connection().isConnected());
        a.feedback().served("while-down", inputs(1f), predicted(2, 0, 3));
        assertThat(a.feedback().resolve(List.of(new FeedbackItem("while-down", 0, IntNode.valueOf(1))), labels)
                .get(0).error()).as("still labelled on the replica that served it").isNull();
        assertThat(a.predictions().dropped()).isEqualTo(1);
        assertThatThrownBy(() -> b.feedback().resolve(List.of(new FeedbackItem("while-down", 0, IntNode.valueOf(1))),
                labels)).isInstanceOf(FleetUnavailableException.class);
    }
}

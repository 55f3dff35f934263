package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.demo.DefaultModel;
import io.microkernel.demo.ShapeImages;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.tensor.Tensor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HoldoutScorerTest {

    @TempDir
    Path dir;

    private final OrtEnvironment env = OrtRuntime.bundled().environment();

    @Test
    void theNextBatchTakesAboutTheTargetTimeAtTheLastBatchsRate() {
        long ms = 1_000_000;
        assertThat(HoldoutScorer.nextRows(10 * ms, 4, 5 * ms, 256)).as("2.5 ms a row").isEqualTo(2);
        assertThat(HoldoutScorer.nextRows(ms / 10, 4, 5 * ms, 256)).as("25 µs a row").isEqualTo(200);
        assertThat(HoldoutScorer.nextRows(ms, 1, 5 * ms, 256)).isEqualTo(5);
        assertThat(HoldoutScorer.nextRows(100 * ms, 1, 5 * ms, 256)).as("slower than the target: one row").isEqualTo(1);
        assertThat(HoldoutScorer.nextRows(ms / 1000, 4, 5 * ms, 256)).as("never above the batch size").isEqualTo(256);
        assertThat(HoldoutScorer.nextRows(0, 4, 5 * ms, 256)).as("too fast to measure").isEqualTo(256);
    }

    @Test
    void batchesSizedByTimeGiveTheSameAnswersAndPauseBeforeEachBatch() throws Exception {
        ArtifactSet set = ArtifactSet.open(Path.of("models", "default"));
        TrainingRound.Base base = TrainingFixtures.baseVersion(set, dir);
        List<Sample> samples = samples(set.description().inputs().get(0).name(), 40);
        AtomicInteger fixedPauses = new AtomicInteger();
        AtomicInteger timedPauses = new AtomicInteger();
        HoldoutScorer fixed = new HoldoutScorer(env, set.description(), samples, 16)
                .pausingWith(fixedPauses::incrementAndGet, Duration.ZERO);
        // A target no batch can meet: after the first batch of FIRST_TIMED_ROWS rows, one row per batch.
        HoldoutScorer timed = new HoldoutScorer(env, set.description(), samples, 16)
                .pausingWith(timedPauses::incrementAndGet, Duration.ofNanos(1));

        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                OrtSession session = env.createSession(base.inferenceModel().toString(), options)) {
            List<double[]> byFixed = fixed.predict(session, set.description().inferenceOutput());
            List<double[]> byTime = timed.predict(session, set.description().inferenceOutput());

            assertThat(byTime).hasSize(40);
            for (int i = 0; i < byFixed.size(); i++) {
                assertThat(byTime.get(i)).as("sample %d", i).containsExactly(byFixed.get(i),
                        org.assertj.core.data.Offset.offset(1e-6));
            }
        }
        assertThat(fixedPauses).hasValue(3);
        assertThat(timedPauses).hasValue(1 + 40 - HoldoutScorer.FIRST_TIMED_ROWS);
    }

    private static List<Sample> samples(String input, int n) {
        ShapeImages.Batch batch = DefaultModel.heldOut(ShapeImages.Domain.SOURCE, 5);
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Tensor image = Tensor.ofFloats(new long[] {1, ShapeImages.SIZE, ShapeImages.SIZE}, batch.pixels()[i]);
            samples.add(new Sample(i + 1, 0, Map.of(input, image), new SampleLabel.ClassIndex(batch.labels()[i])));
        }
        return samples;
    }
}

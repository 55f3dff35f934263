package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.runtime.OrtRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A round gives way to serving: it waits while the pressure signal says requests are in flight, at
 * most the cap per pause, and not at all while serving is idle. Time is a fake clock the waiter
 * advances, so nothing here depends on how fast the machine is.
 */
class ServingYieldTest {

    @TempDir
    Path dir;

    /** A clock that moves only when the code under test waits on it. */
    private static final class FakeTime implements ServingYield.Waiter {
        long now = 1_000_000_000L;
        final List<Long> waits = new ArrayList<>();

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void waitNanos(long nanos) {
            waits.add(nanos);
            now += nanos;
        }
    }

    @Test
    void doesNotWaitOrCountWhileNothingIsInFlight() {
        FakeTime time = new FakeTime();
        ServingYield yield = new ServingYield(() -> 0, Duration.ofMillis(5), time);

        for (int i = 0; i < 10; i++) {
            yield.pause();
        }

        assertThat(time.waits).isEmpty();
        assertThat(yield.pauses()).isZero();
        assertThat(yield.waited()).isZero();
    }

    @Test
    void waitsUntilServingIsIdle() {
        FakeTime time = new FakeTime();
        AtomicInteger reads = new AtomicInteger();
        // In flight for the first four reads (the check on entry, then three before each wait), idle from the fifth.
        ServingYield yield = new ServingYield(() -> reads.incrementAndGet() <= 4 ? 1 : 0, Duration.ofMillis(5), time);

        yield.pause();

        assertThat(time.waits).containsExactly(ServingYield.POLL_NANOS, ServingYield.POLL_NANOS, ServingYield.POLL_NANOS);
        assertThat(reads).hasValue(5);
        assertThat(yield.pauses()).isEqualTo(1);
        assertThat(yield.waited()).isEqualTo(Duration.ofNanos(3 * ServingYield.POLL_NANOS));
    }

    @Test
    void underConstantLoadEachPauseEndsAtTheCap() {
        FakeTime time = new FakeTime();
        ServingYield yield = new ServingYield(() -> 3, Duration.ofNanos(5 * ServingYield.POLL_NANOS + 1), time);

        yield.pause();
        yield.pause();

        assertThat(yield.pauses()).isEqualTo(2);
        assertThat(yield.waited()).isEqualTo(Duration.ofNanos(2 * (5 * ServingYield.POLL_NANOS + 1)));
        // Six waits per pause: five full polls and the last nanosecond up to the cap.
        assertThat(time.waits).hasSize(12).endsWith(ServingYield.POLL_NANOS, 1L);
    }

    @Test
    void offNeverReadsTheSignal() {
        AtomicInteger reads = new AtomicInteger();
        ServingYield yield = new ServingYield(() -> reads.incrementAndGet(), Duration.ZERO, new FakeTime());

        yield.pause();

        assertThat(yield.enabled()).isFalse();
        assertThat(reads).hasValue(0);
        assertThat(ServingYield.OFF.enabled()).isFalse();
    }

    private final OrtEnvironment env = OrtRuntime.bundled().environment();
    private final PromotionGate gate = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.empty(), 0.1));

    /** A round on 200 samples, 3 epochs of batch 16, with the given yield; returns its outcome. */
    private TrainingRound.Outcome round(ArtifactSet set, TrainingRound.Base base, SampleJournal journal, String work,
            ServingYield yield, List<RoundRecord.Progress> progress) {
        TrainingRound round = new TrainingRound(env, set, base, journal.snapshot(), new RoundSettings(3, 16, 0.05, 1.0, 0.3),
                9, 1, gate, dir.resolve(work), progress::add, () -> false).yieldingTo(yield);
        return round.run();
    }

    @Test
    void aRoundUnderConstantLoadPausesBeforeEveryStepAndStillFinishesWithTheSameCandidate() throws Exception {
        ArtifactSet set = TrainingFixtures.classifierSet(dir);
        TrainingRound.Base base = TrainingFixtures.baseVersion(set, dir);
        SampleJournal journal = SampleJournal.open(dir.resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
        journal.append(TrainingFixtures.samples(200, 21, false));

        FakeTime idleTime = new FakeTime();
        ServingYield idle = new ServingYield(() -> 0, Duration.ofMillis(5), idleTime);
        TrainingRound.Outcome alone = round(set, base, journal, "alone", idle, new ArrayList<>());

        FakeTime busyTime = new FakeTime();
        ServingYield busy = new ServingYield(() -> 1, Duration.ofMillis(5), busyTime);
        List<Long> pausesAtStep = new ArrayList<>();
        List<RoundRecord.Progress> progress = new ArrayList<>();
        TrainingRound.Outcome loaded = round(set, base, journal, "loaded", busy, new ArrayList<>() {
            @Override
            public boolean add(RoundRecord.Progress p) {
                if (p.phase().equals("training")) {
                    pausesAtStep.add(busy.pauses() - p.step());
                }
                return progress.add(p);
            }
        });

        // Nothing in flight: the round never waited.
        assertThat(idleTime.waits).isEmpty();
        assertThat(idle.pauses()).isZero();
        // Always in flight: every pause waited its full cap, and the round still ran every step.
        long steps = progress.get(progress.size() - 1).step();
        assertThat(steps).isEqualTo(progress.get(progress.size() - 1).steps()).isPositive();
        assertThat(pausesAtStep).isNotEmpty().allSatisfy(extra -> assertThat(extra).isNotNegative());
        assertThat(busy.pauses()).isGreaterThan(steps);
        assertThat(busy.waited()).isEqualTo(Duration.ofMillis(5).multipliedBy(busy.pauses()));
        assertThat(busyTime.now - 1_000_000_000L).isEqualTo(busy.waited().toNanos());
        // Waiting changes nothing the round computes.
        assertThat(loaded.decision().promote()).isEqualTo(alone.decision().promote());
        assertThat(loaded.candidate().loss()).isEqualTo(alone.candidate().loss());
        assertThat(Files.readAllBytes(loaded.candidateDir().resolve("checkpoint")))
                .isEqualTo(Files.readAllBytes(alone.candidateDir().resolve("checkpoint")));
    }
}

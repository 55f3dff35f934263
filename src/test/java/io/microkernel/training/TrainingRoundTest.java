package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.runtime.OrtRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingRoundTest {

    @TempDir
    Path dir;

    private final OrtEnvironment env = OrtRuntime.bundled().environment();
    private final PromotionGate gate = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.empty(), 0.1));
    private ArtifactSet set;
    private TrainingRound.Base base;
    private SampleJournal journal;

    @BeforeEach
    void setUp() throws Exception {
        set = TrainingFixtures.classifierSet(dir);
        base = TrainingFixtures.baseVersion(set, dir);
        journal = SampleJournal.open(dir.resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
    }

    private TrainingRound round(RoundSettings settings, long seed, String work, List<RoundRecord.Progress> progress,
            java.util.function.BooleanSupplier cancelled) {
        return new TrainingRound(env, set, base, journal.snapshot(), settings, seed, 1, gate, dir.resolve(work),
                progress::add, cancelled);
    }

    @Test
    void aRoundThatLearnsIsPromotedAndLeavesTheActiveCheckpointUntouched() throws Exception {
        journal.append(TrainingFixtures.samples(400, 11, false));
        byte[] activeBefore = Files.readAllBytes(base.checkpoint());
        List<RoundRecord.Progress> progress = new ArrayList<>();

        TrainingRound round = round(new RoundSettings(8, 32, 0.05, 0.9, 0.3), 5, "work", progress, () -> false);
        TrainingRound.Outcome outcome = round.run();

        assertThat(outcome.decision().promote()).as(outcome.decision().reason()).isTrue();
        assertThat(outcome.candidate().accuracy()).isGreaterThan(outcome.active().accuracy() + 0.2);
        assertThat(outcome.candidate().loss()).isLessThan(outcome.active().loss());
        assertThat(outcome.candidate().perClassRecall()).containsOnlyKeys("a", "b", "c");
        assertThat(outcome.candidate().samples()).isEqualTo(outcome.samples().holdout()).isPositive();
        assertThat(outcome.samples().train() + outcome.samples().holdout()).isEqualTo(400);
        assertThat(outcome.candidateDir().resolve("checkpoint")).isRegularFile();
        assertThat(outcome.candidateDir().resolve("inference.onnx")).isRegularFile();
        assertThat(Files.readAllBytes(base.checkpoint())).isEqualTo(activeBefore);
        assertThat(Files.readAllBytes(outcome.candidateDir().resolve("checkpoint"))).isNotEqualTo(activeBefore);
        // Progress covered every planned step and ended in the evaluation phase.
        assertThat(progress).isNotEmpty();
        assertThat(progress.get(progress.size() - 1).phase()).isEqualTo("evaluating");
        assertThat(progress.get(progress.size() - 1).step()).isEqualTo(round.plannedSteps());
        assertThat(progress.stream().filter(p -> p.phase().equals("training")).map(RoundRecord.Progress::epoch))
                .contains(1, 8);

        // The candidate's checkpoint is a valid start for the next round.
        TrainingRound.Base next = new TrainingRound.Base(2, outcome.candidateDir().resolve("checkpoint"),
                outcome.candidateDir().resolve("inference.onnx"), set.description().inferenceOutput());
        TrainingRound.Outcome again = new TrainingRound(env, set, next, journal.snapshot(),
                new RoundSettings(1, 32, 0.01, 1.0, 0.3), 6, 1, gate, dir.resolve("work2"), p -> { }, () -> false).run();
        assertThat(again.active().accuracy()).isEqualTo(outcome.candidate().accuracy());
    }

    @Test
    void aRoundThatGivesWayToServingSizesItsEvaluationBatchesByTime() {
        TrainingRound yielding = round(new RoundSettings(1, 32, 0.01, 1.0, 0.3), 7, "yielding", new ArrayList<>(), () -> false)
                .yieldingTo(new ServingYield(() -> 0, java.time.Duration.ofMillis(5)));
        TrainingRound notYielding = round(new RoundSettings(1, 32, 0.01, 1.0, 0.3), 7, "not-yielding", new ArrayList<>(), () -> false);

        assertThat(yielding.scorer(List.of()).batchTime()).isEqualTo(TrainingRound.YIELDING_EVAL_BATCH_TIME);
        assertThat(notYielding.scorer(List.of()).batchTime()).isZero();
    }

    @Test
    void aDivergingLearningRateIsRejectedWithItsNumbers() throws Exception {
        journal.append(TrainingFixtures.samples(300, 12, false));
        TrainingRound.Outcome outcome = round(new RoundSettings(3, 16, 1e4, 1.0, 0.3), 7, "work", new ArrayList<>(),
                () -> false).run();
        assertThat(outcome.decision().promote()).isFalse();
        assertThat(outcome.decision().reason()).startsWith("rejected: ").contains("vs active");
        assertThat(outcome.candidate().loss()).satisfiesAnyOf(
                loss -> assertThat(loss).isNaN(),
                loss -> assertThat(loss).isGreaterThan(outcome.active().loss()));
    }

    @Test
    void shuffledLabelsAfterAGoodRoundAreRejected() throws Exception {
        journal.append(TrainingFixtures.samples(400, 13, false));
        TrainingRound.Outcome good = round(new RoundSettings(8, 32, 0.05, 0.9, 0.0), 1, "good", new ArrayList<>(),
                () -> false).run();
        assertThat(good.decision().promote()).as(good.decision().reason()).isTrue();
        journal.markConsumed(journal.snapshot().lastId());
        base = new TrainingRound.Base(2, good.candidateDir().resolve("checkpoint"),
                good.candidateDir().resolve("inference.onnx"), set.description().inferenceOutput());

        journal.append(TrainingFixtures.samples(400, 14, true));
        TrainingRound.Outcome poisoned = round(new RoundSettings(10, 32, 0.05, 1.0, 0.0), 2, "poisoned",
                new ArrayList<>(), () -> false).run();

        assertThat(poisoned.samples().fresh()).isLessThanOrEqualTo(400).isGreaterThan(250);
        assertThat(poisoned.decision().promote()).as(poisoned.decision().reason()).isFalse();
        assertThat(poisoned.candidate().accuracy()).isLessThan(poisoned.active().accuracy());
        assertThat(poisoned.decision().reason()).contains("accuracy");
    }

    @Test
    void aCancelledRoundStopsBetweenStepsWithoutACandidate() {
        journal.append(TrainingFixtures.samples(200, 15, false));
        AtomicInteger polls = new AtomicInteger();
        List<RoundRecord.Progress> progress = new ArrayList<>();
        TrainingRound round = round(new RoundSettings(50, 8, 0.05, 1.0, 0.3), 3, "work", progress,
                () -> polls.incrementAndGet() > 5);
        assertThatThrownBy(round::run).isInstanceOf(RoundCancelledException.class);
        assertThat(progress).allSatisfy(p -> assertThat(p.step()).isLessThanOrEqualTo(5));
        assertThat(dir.resolve("work/candidate/inference.onnx")).doesNotExist();
    }

    @Test
    void anMseSetLearnsAndIsJudgedOnMse() throws Exception {
        set = TrainingFixtures.regressionSet(dir);
        base = TrainingFixtures.baseVersion(set, dir.resolve("regression"));
        assertThat(set.description().loss()).isEqualTo(io.microkernel.artifacts.LossKind.MSE);
        journal.append(TrainingFixtures.regressionSamples(300, 17));
        TrainingRound.Outcome outcome = round(new RoundSettings(10, 16, 0.05, 1.0, 0.3), 4, "work", new ArrayList<>(),
                () -> false).run();
        assertThat(outcome.decision().promote()).as(outcome.decision().reason()).isTrue();
        assertThat(outcome.candidate().accuracy()).isNull();
        assertThat(outcome.candidate().perClassRecall()).isEmpty();
        assertThat(outcome.candidate().mse()).isLessThan(outcome.active().mse() * 0.5);
        // The MSE from the exported inference model and the eval graph's loss measure the same thing.
        assertThat(outcome.candidate().mse()).isCloseTo(outcome.candidate().loss(), org.assertj.core.data.Offset.offset(1e-4));
        assertThat(outcome.decision().reason()).contains("mse ");
    }

    @Test
    void aTwoInputModelIsFedInTheGraphsInputOrder() throws Exception {
        set = TrainingFixtures.twoInputSet(dir);
        base = TrainingFixtures.baseVersion(set, dir.resolve("two-inputs"));
        assertThat(set.description().inputs()).extracting(io.microkernel.tensor.TensorSpec::name)
                .containsExactly("left", "right");
        journal.append(TrainingFixtures.twoInputSamples(400, 18));
        TrainingRound.Outcome outcome = round(new RoundSettings(8, 32, 0.05, 0.9, 0.3), 8, "work", new ArrayList<>(),
                () -> false).run();
        assertThat(outcome.decision().promote()).as(outcome.decision().reason()).isTrue();
        assertThat(outcome.candidate().accuracy()).isGreaterThan(outcome.active().accuracy() + 0.2);
    }

    @Test
    void theSameSeedTrainsTheSameCandidate() throws Exception {
        journal.append(TrainingFixtures.samples(200, 16, false));
        RoundSettings settings = new RoundSettings(2, 16, 0.05, 1.0, 0.3);
        TrainingRound.Outcome a = round(settings, 99, "a", new ArrayList<>(), () -> false).run();
        TrainingRound.Outcome b = round(settings, 99, "b", new ArrayList<>(), () -> false).run();
        assertThat(b.candidate().loss()).isEqualTo(a.candidate().loss());
        assertThat(b.lastTrainLoss()).isEqualTo(a.lastTrainLoss());
    }
}

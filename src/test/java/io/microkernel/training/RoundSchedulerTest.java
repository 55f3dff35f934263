package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.serving.ModelLoader;
import io.microkernel.serving.ServedModel;
import io.microkernel.serving.ServingMetrics;
import io.microkernel.serving.SessionSettings;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalDouble;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rounds end to end below HTTP: a real store and served model, promotion, rejection, conflicts, cancel. */
class RoundSchedulerTest {

    private static final Duration PATIENCE = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private ModelStore store;
    private ServedModel served;
    private SampleJournal journal;
    private RoundScheduler scheduler;

    @BeforeEach
    void setUp() {
        ArtifactSet set = TrainingFixtures.classifierSet(dir);
        store = ModelStore.open(dir.resolve("models/m"), 5);
        store.bootstrap(set.dir(), TrainingFixtures.CLASSES, set.description().inferenceOutput(),
                (checkpoint, target) -> set.exportInference(OrtRuntime.bundled().environment(), checkpoint, target));
        served = new ServedModel("m", store, new ModelLoader(() -> OrtRuntime.bundled().environment(),
                SessionSettings.cpu(1, 1)), new ServingMetrics(registry, "m"));
        served.start();
        scheduler = scheduler(0);
    }

    private RoundScheduler scheduler(int minNewSamples) {
        journal = SampleJournal.open(store.root().resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
        PromotionGate gate = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.empty(), 0.1));
        return new RoundScheduler("m", () -> OrtRuntime.bundled().environment(),
                () -> ArtifactSet.open(store.baseDir()), served, journal, RoundRecords.open(store.root().resolve("rounds")),
                gate, new RoundScheduler.Options(new RoundSettings(8, 32, 0.05, 0.9, 0.3), 1, minNewSamples,
                        store.root().resolve("training-work")),
                new TrainingMetrics(minNewSamples == 0 ? registry : new SimpleMeterRegistry(), "m",
                        () -> journal.stats().total()));
    }

    @AfterEach
    void tearDown() {
        scheduler.close();
        journal.close();
        served.close();
    }

    private RoundRecord awaitFinal(long id) {
        await().atMost(PATIENCE).until(() -> scheduler.find(id).state().isFinal());
        return scheduler.find(id);
    }

    @Test
    void aRoundThatLearnsIsPublishedWithLineageAndServed() {
        journal.append(TrainingFixtures.samples(400, 21, false));
        RoundRecord queued = scheduler.start("manual", RoundOverrides.NONE);
        assertThat(queued.state()).isEqualTo(RoundState.QUEUED);

        RoundRecord done = awaitFinal(queued.id());

        assertThat(done.state()).as(String.valueOf(done.cause())).isEqualTo(RoundState.PROMOTED);
        assertThat(done.baseVersion()).isEqualTo(1);
        assertThat(done.promotedVersion()).isEqualTo(2);
        assertThat(done.decision().reason()).startsWith("promoted: accuracy");
        assertThat(served.activeVersion()).hasValue(2);
        ModelVersion v2 = store.version(2);
        assertThat(v2.lineage().parentVersion()).isEqualTo(1);
        assertThat(v2.lineage().roundId()).isEqualTo(Long.toString(queued.id()));
        assertThat(v2.lineage().sampleCount()).isEqualTo(done.samples().train());
        assertThat(v2.lineage().metrics()).containsEntry("accuracy", done.candidateMetrics().accuracy());
        assertThat(journal.consumedThrough()).isEqualTo(400);
        // The record on disk says the same, and the round's temporary files are gone.
        assertThat(RoundRecords.open(store.root().resolve("rounds")).find(queued.id()).orElseThrow().state())
                .isEqualTo(RoundState.PROMOTED);
        // The record turns final just before the round's thread clears its work folder.
        Path workDir = store.root().resolve("training-work").resolve("round-" + queued.id());
        await().atMost(PATIENCE).untilAsserted(() -> assertThat(workDir).doesNotExist());
        assertThat(registry.get("microkernel.training.rounds").tag("outcome", "promoted").counter().count()).isEqualTo(1);
        assertThat(registry.get("microkernel.training.last.holdout.accuracy").gauge().value())
                .isEqualTo(done.candidateMetrics().accuracy());
    }

    @Test
    void aDivergingRoundIsRejectedAndServingKeepsTheOldVersion() {
        journal.append(TrainingFixtures.samples(300, 22, false));
        RoundRecord queued = scheduler.start("manual", RoundOverrides.of(3, 16, 1e4, 5L));
        RoundRecord done = awaitFinal(queued.id());
        assertThat(done.state()).as(String.valueOf(done.cause())).isEqualTo(RoundState.REJECTED);
        assertThat(done.settings().learningRate()).isEqualTo(1e4);
        assertThat(done.seed()).isEqualTo(5L);
        assertThat(done.decision().promote()).isFalse();
        assertThat(done.decision().reason()).startsWith("rejected: ");
        assertThat(done.candidateMetrics()).isNotNull();
        assertThat(served.activeVersion()).hasValue(1);
        assertThat(store.versions()).extracting(ModelVersion::version).containsExactly(1);
        assertThat(journal.consumedThrough()).isZero();
    }

    @Test
    void aSecondTriggerWhileARoundRunsIsAConflictNamingItAndCancelStopsIt() {
        journal.append(TrainingFixtures.samples(300, 23, false));
        RoundRecord queued = scheduler.start("manual", RoundOverrides.of(10_000, 4, 0.01, null));
        assertThatThrownBy(() -> scheduler.start("manual", RoundOverrides.NONE))
                .isInstanceOf(RoundConflictException.class)
                .hasMessageContaining("round " + queued.id())
                .satisfies(e -> assertThat(((RoundConflictException) e).runningRound()).hasValue(queued.id()));
        await().atMost(PATIENCE).until(() -> scheduler.find(queued.id()).progress() != null
                && scheduler.find(queued.id()).progress().step() > 0);

        scheduler.cancel(queued.id());
        RoundRecord done = awaitFinal(queued.id());

        assertThat(done.state()).isEqualTo(RoundState.CANCELLED);
        assertThat(done.cause()).contains("cancelled");
        assertThat(served.activeVersion()).hasValue(1);
        assertThat(store.versions()).hasSize(1);
        assertThatThrownBy(() -> scheduler.cancel(queued.id())).isInstanceOf(RoundConflictException.class)
                .hasMessageContaining("already finished");
        assertThatThrownBy(() -> scheduler.find(99)).isInstanceOf(ProblemException.class).hasFieldOrPropertyWithValue("type", ProblemType.UNKNOWN_ROUND);
    }

    @Test
    void aRoundWhoseVersionWentLiveJustBeforeAStopIsRecordedAsPromotedAtRestart() throws Exception {
        journal.append(TrainingFixtures.samples(100, 27, false));
        RoundRecords records = scheduler.records();
        RoundRecord publishing = RoundRecord.queued(records.nextId(), "m", "manual", 1, new RoundSettings(1, 8, 0.01, 1.0, 0.3))
                .running(1, new RoundRecord.SampleCounts(80, 80, 0, 20, 100), 10);
        records.save(publishing);
        // The candidate is published and swapped in; the process stops before the round's final record is saved.
        Path candidate = java.nio.file.Files.createDirectories(dir.resolve("candidate"));
        java.nio.file.Files.copy(store.version(1).checkpoint(), candidate.resolve("checkpoint"));
        java.nio.file.Files.copy(store.version(1).inferenceModel(), candidate.resolve("inference.onnx"));
        served.promote(candidate, io.microkernel.store.Lineage.fromRound(1, Long.toString(publishing.id()), 80,
                java.util.Map.of()));
        scheduler.close();
        journal.close();

        scheduler = scheduler(0);

        RoundRecord after = scheduler.find(publishing.id());
        assertThat(after.state()).isEqualTo(RoundState.PROMOTED);
        assertThat(after.promotedVersion()).isEqualTo(2);
        assertThat(after.cause()).isEqualTo("process stopped during the round after publishing and activating version 2");
        assertThat(journal.consumedThrough()).isEqualTo(100);
    }

    /**
     * Issue 10, defect 5: an operator activates version 2 while a round that started from version 1 is
     * running. The round's candidate was compared with version 1 only, so it is not promoted: the
     * operator's choice stays, the record says why, and its samples stay unlearned for the next round.
     */
    @Test
    void aManualActivationDuringARoundWinsAndTheRoundSaysItWasNotPromoted() throws Exception {
        Path copy = java.nio.file.Files.createDirectories(dir.resolve("copy-of-1"));
        java.nio.file.Files.copy(store.version(1).checkpoint(), copy.resolve("checkpoint"));
        java.nio.file.Files.copy(store.version(1).inferenceModel(), copy.resolve("inference.onnx"));
        int operatorsChoice = store.publish(copy, io.microkernel.store.Lineage.bootstrap()).version();
        java.util.concurrent.CountDownLatch accepted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch activated = new java.util.concurrent.CountDownLatch(1);
        scheduler.beforePromotion(() -> {
            accepted.countDown();
            try {
                activated.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        journal.append(TrainingFixtures.samples(400, 21, false));
        RoundRecord queued = scheduler.start("manual", RoundOverrides.NONE);
        assertThat(accepted.await(PATIENCE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isTrue();

        served.swap(operatorsChoice);
        activated.countDown();
        RoundRecord done = awaitFinal(queued.id());

        assertThat(done.state()).isEqualTo(RoundState.REJECTED);
        assertThat(done.baseVersion()).isEqualTo(1);
        assertThat(done.promotedVersion()).isNull();
        assertThat(done.decision().promote()).as("the gate accepted it against version 1").isTrue();
        assertThat(done.cause()).isEqualTo("not promoted: version " + operatorsChoice
                + " was activated during the round, and the candidate was compared with version 1 only");
        assertThat(served.activeVersion()).hasValue(operatorsChoice);
        assertThat(store.versions()).extracting(ModelVersion::version).containsExactly(1, operatorsChoice);
        assertThat(journal.consumedThrough()).isZero();
    }

    @Test
    void tooFewSamplesIsAConflictAndMinNewSamplesStartsARoundByItself() {
        assertThatThrownBy(() -> scheduler.start("manual", RoundOverrides.NONE))
                .isInstanceOf(RoundConflictException.class).hasMessageContaining("found 0 training");
        scheduler.close();
        journal.close();
        scheduler = scheduler(100);

        journal.append(TrainingFixtures.samples(60, 24, false));
        assertThat(scheduler.samplesAdded()).isEmpty();
        journal.append(TrainingFixtures.samples(60, 25, false));
        RoundRecord started = scheduler.samplesAdded().orElseThrow();
        assertThat(started.trigger()).isEqualTo("min-new-samples");
        RoundRecord done = awaitFinal(started.id());
        assertThat(done.samples().throughId()).isEqualTo(120);
        // Nothing new since that round: neither trigger starts another.
        assertThat(scheduler.samplesAdded()).isEmpty();
        assertThat(scheduler.intervalElapsed()).isEmpty();
        // One new sample is enough for the interval trigger, not for min-new-samples.
        journal.append(TrainingFixtures.samples(1, 26, false));
        assertThat(scheduler.samplesAdded()).isEmpty();
        RoundRecord byInterval = scheduler.intervalElapsed().orElseThrow();
        assertThat(byInterval.trigger()).isEqualTo("interval");
        assertThat(awaitFinal(byInterval.id()).samples().throughId()).isEqualTo(121);
    }
    /**
     * Fleet mode: away from the trainer lease's holder neither trigger starts a round here and a
     * manual round is forwarded; once this replica holds the lease its own trigger runs the round.
     */
    @Test
    void awayFromTheTrainerTheTriggersStartNothingAndAManualRoundIsForwarded() {
        scheduler.close();
        journal.close();
        scheduler = scheduler(100);
        java.util.concurrent.atomic.AtomicBoolean holdsLease = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.List<String> forwarded = new java.util.concurrent.CopyOnWriteArrayList<>();
        RoundRecord atTheTrainer = RoundRecord.queued(41, "m", "manual", 7, new RoundSettings(8, 32, 0.05, 0.9, 0.3));
        scheduler.useFleet(new RoundRouting() {
            @Override
            public boolean trainsHere() {
                return holdsLease.get();
            }

            @Override
            public RoundRecord forward(String trigger, RoundOverrides overrides) {
                forwarded.add(trigger);
                return atTheTrainer;
            }

            @Override
            public RoundRecord forwardCancel(long id) {
                throw new IllegalStateException("no cancel in this test");
            }
        }, (comparedWith, candidateDir, lineage, throughId) -> served.promoteOver(comparedWith, candidateDir, lineage));

        journal.append(TrainingFixtures.samples(120, 27, false));
        assertThat(scheduler.samplesAdded()).as("min-new-samples away from the trainer").isEmpty();
        assertThat(scheduler.intervalElapsed()).as("interval away from the trainer").isEmpty();
        assertThat(forwarded).as("the trainer's own triggers fire there").isEmpty();
        assertThat(scheduler.start("manual", RoundOverrides.NONE)).isSameAs(atTheTrainer);
        assertThat(forwarded).containsExactly("manual");
        assertThat(scheduler.current()).isEmpty();
        assertThat(scheduler.records().latest()).as("no round recorded here").isEmpty();

        holdsLease.set(true);
        RoundRecord started = scheduler.samplesAdded().orElseThrow();
        assertThat(started.trigger()).isEqualTo("min-new-samples");
        assertThat(awaitFinal(started.id()).samples().throughId()).isEqualTo(120);
        assertThat(forwarded).containsExactly("manual");
    }
}

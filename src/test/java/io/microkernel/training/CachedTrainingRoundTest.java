package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.training.features.FeatureCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rounds on graphs cut at the frozen frontier, with cached features, train the same parameters as
 * rounds on the full graphs (to {@link CachedRoundFixtures#SAME_ANSWER_TOLERANCE}), fall back with a
 * reason where a set cannot be cut, and never reuse features of another frozen part.
 */
class CachedTrainingRoundTest {

    @TempDir
    Path dir;

    private final OrtEnvironment env = OrtRuntime.bundled().environment();
    private final PromotionGate gate = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.empty(), 0.1));

    private TrainingRound.Outcome round(ArtifactSet set, TrainingRound.Base base, SampleJournal journal,
            RoundSettings settings, String work, FeatureCache cache) {
        TrainingRound round = new TrainingRound(env, set, base, journal.snapshot(), settings, 17, 1, gate,
                dir.resolve(work), p -> { }, () -> false);
        return (cache == null ? round : round.useFeatureCache(cache)).run();
    }

    private FeatureCache cache(String name) {
        return new FeatureCache(dir.resolve(name), 64L << 20, true);
    }

    /** Trains the same seeded round with and without the cache and compares the trainable parameters. */
    private TrainingRound.Outcome assertSameAnswers(ArtifactSet set, int samples, RoundSettings settings)
            throws Exception {
        TrainingRound.Base base = TrainingFixtures.baseVersion(set, dir);
        SampleJournal journal = SampleJournal.open(dir.resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
        journal.append(CachedRoundFixtures.randomSamples(set, samples, 3));

        TrainingRound.Outcome full = round(set, base, journal, settings, "full", null);
        TrainingRound.Outcome cached = round(set, base, journal, settings, "cached", cache("cache"));

        assertThat(full.featureCache().used()).isFalse();
        assertThat(cached.featureCache().used()).as(cached.featureCache().reason()).isTrue();
        Path fullCheckpoint = full.candidateDir().resolve(TrainingRound.CHECKPOINT);
        Path cachedCheckpoint = cached.candidateDir().resolve(TrainingRound.CHECKPOINT);
        // Training moved the parameters, so agreeing means something.
        assertThat(Checkpoint.read(fullCheckpoint).trainable()).isNotEqualTo(Checkpoint.read(base.checkpoint()).trainable());
        CachedRoundFixtures.assertSameTrainable(fullCheckpoint, cachedCheckpoint);
        assertThat(cached.candidate().loss()).isCloseTo(full.candidate().loss(),
                org.assertj.core.data.Percentage.withPercentage(0.01));
        assertThat(cached.active().loss()).isCloseTo(full.active().loss(),
                org.assertj.core.data.Percentage.withPercentage(0.01));
        // Export is unchanged: the candidate serves from the full graph.
        assertThat(cached.candidate().accuracy()).isEqualTo(full.candidate().accuracy());
        return cached;
    }

    @Test
    void theDefaultModelTrainsTheSameWithTheCache() throws Exception {
        ArtifactSet set = ArtifactSet.open(Path.of("models/default"));
        TrainingRound.Outcome cached = assertSameAnswers(set, 120, new RoundSettings(4, 16, 0.01, 1.0, 0.0));
        // 96 train samples seen 4 times plus the holdout twice: after the first pass everything hits.
        int train = cached.samples().train();
        int holdout = cached.samples().holdout();
        assertThat(cached.featureCache().misses()).isEqualTo(train + holdout);
        assertThat(cached.featureCache().hits()).isEqualTo(3L * train + holdout);
        assertThat(cached.featureCache().hitRate()).isGreaterThan(0.7);
    }

    @Test
    void aTrainablePartBetweenFrozenPartsTrainsTheSameWithTheCache() throws Exception {
        ArtifactSet set = CachedRoundFixtures.sandwichSet(dir);
        TrainingRound.Outcome cached = assertSameAnswers(set, 200, new RoundSettings(5, 16, 0.02, 1.0, 0.0));
        assertThat(cached.featureCache().features()).containsExactly("features");
    }

    @Test
    void theHeavyBenchmarkModelTrainsTheSameWithTheCache() throws Exception {
        ArtifactSet set = CachedRoundFixtures.heavySet(dir);
        TrainingRound.Outcome cached = assertSameAnswers(set, 40, new RoundSettings(3, 8, 0.01, 1.0, 0.0));
        assertThat(cached.featureCache().features()).containsExactly("features");
    }

    @Test
    void aSetWhoseTrainablePartReadsTheInputsFallsBackToTheFullGraphAndSaysWhy() throws Exception {
        ArtifactSet set = CachedRoundFixtures.trainableFirstSet(dir);
        TrainingRound.Base base = TrainingFixtures.baseVersion(set, dir);
        SampleJournal journal = SampleJournal.open(dir.resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
        journal.append(CachedRoundFixtures.randomSamples(set, 100, 4));

        TrainingRound.Outcome outcome = round(set, base, journal, new RoundSettings(2, 16, 0.02, 1.0, 0.0), "work",
                cache("cache"));

        assertThat(outcome.featureCache().used()).isFalse();
        assertThat(outcome.featureCache().reason()).contains("trainable parameters sit before any frozen work");
        assertThat(outcome.candidate().loss()).isFinite();
        assertThat(outcome.candidateDir().resolve(TrainingRound.INFERENCE_MODEL)).isRegularFile();
    }

    @Test
    void aFrozenPartThatMixesTheBatchFallsBackToTheFullGraphAndSaysWhy() throws Exception {
        ArtifactSet set = CachedRoundFixtures.batchMixingSet(dir);
        TrainingRound.Base base = TrainingFixtures.baseVersion(set, dir);
        SampleJournal journal = SampleJournal.open(dir.resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
        journal.append(CachedRoundFixtures.randomSamples(set, 100, 6));

        TrainingRound.Outcome outcome = round(set, base, journal, new RoundSettings(2, 16, 0.02, 1.0, 0.0), "work",
                cache("cache"));

        assertThat(outcome.featureCache().used()).isFalse();
        assertThat(outcome.featureCache().reason()).contains("mixes samples of a batch");
        assertThat(outcome.candidate().loss()).isFinite();
    }

    @Test
    void changedFrozenParametersAreNotServedFromTheCache() throws Exception {
        ArtifactSet set = TrainingFixtures.classifierSet(dir);
        TrainingRound.Base base = TrainingFixtures.baseVersion(set, dir);
        SampleJournal journal = SampleJournal.open(dir.resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
        journal.append(TrainingFixtures.samples(100, 5, false));
        RoundSettings settings = new RoundSettings(2, 16, 0.02, 1.0, 0.0);
        FeatureCache cache = cache("cache");

        TrainingRound.Outcome first = round(set, base, journal, settings, "first", cache);
        TrainingRound.Outcome again = round(set, base, journal, settings, "again", cache);
        String hash = cache.frozenPart().orElseThrow();
        int distinct = first.samples().train() + first.samples().holdout();
        assertThat(first.featureCache().misses()).isEqualTo(distinct);
        assertThat(again.featureCache().misses()).as("the same frozen part is served from the cache").isZero();

        TrainingRound.Base changed = withFrozenParametersScaled(set, base, 1.5f);
        TrainingRound.Outcome after = round(set, changed, journal, settings, "after", cache);
        assertThat(cache.frozenPart()).isPresent().isNotEqualTo(java.util.Optional.of(hash));
        assertThat(after.featureCache().misses()).as("features of the old frozen part are not reused")
                .isEqualTo(distinct);
        // And the cached round of the changed backbone still trains as the full graph does.
        TrainingRound.Outcome full = round(set, changed, journal, settings, "after-full", null);
        CachedRoundFixtures.assertSameTrainable(full.candidateDir().resolve(TrainingRound.CHECKPOINT),
                after.candidateDir().resolve(TrainingRound.CHECKPOINT));
    }

    /** A version whose frozen parameters (the backbone) differ from {@code base}'s, as after an all-trainable round. */
    private TrainingRound.Base withFrozenParametersScaled(ArtifactSet set, TrainingRound.Base base, float factor)
            throws Exception {
        Checkpoint state = Checkpoint.read(base.checkpoint());
        Map<String, CheckpointTensor> scaled = new java.util.HashMap<>();
        for (CheckpointTensor p : state.frozen()) {
            float[] values = p.floats();
            for (int i = 0; i < values.length; i++) {
                values[i] *= factor;
            }
            scaled.put(p.name(), p.withData(values));
        }
        Path version = Files.createDirectories(dir.resolve("v2"));
        state.withParameters(scaled).write(version.resolve("checkpoint"));
        set.exportInference(env, version.resolve("checkpoint"), version.resolve("inference.onnx"));
        return new TrainingRound.Base(2, version.resolve("checkpoint"), version.resolve("inference.onnx"),
                base.inferenceOutput());
    }

    @Test
    void theRoundRecordSaysWhetherTheCacheWasUsed() {
        RoundRecord record = RoundRecord.queued(1, "default", "manual", 1, new RoundSettings(1, 1, 0.1, 1.0, 0.0))
                .withFeatureCache(FeatureCacheUse.used(90, 10, List.of("features")));
        assertThat(record.featureCache().hitRate()).isEqualTo(0.9);
        assertThat(record.rejected().featureCache()).isEqualTo(record.featureCache());
    }
}

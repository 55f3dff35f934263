package io.microkernel.bench;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.training.LabelledInput;
import io.microkernel.training.PromotionGate;
import io.microkernel.training.RoundRecord;
import io.microkernel.training.RoundSettings;
import io.microkernel.training.SampleJournal;
import io.microkernel.training.SampleLabel;
import io.microkernel.training.TrainingRound;
import io.microkernel.training.features.FeatureCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;

/**
 * The same seeded 10-epoch round, in-process, on the full graphs and on the graphs cut at the frozen
 * frontier with the frozen-feature cache: training-phase samples per second of each, side by side.
 *
 * <p>The training phase runs from the round's first progress report (after its first step) to its
 * "evaluating" report, so both rounds are timed over the same steps; the cached round's first epoch
 * computes every sample's features inside that window.
 */
final class CachedRoundSpeedup {

    static final int EPOCHS = 10;

    private CachedRoundSpeedup() {
    }

    /** Training-phase figures of one round. */
    record Phase(double samplesPerSecond, double seconds, Map<String, Object> featureCache) {
    }

    static Map<String, Object> measure(OrtEnvironment env, Path artifacts, int samples, int batch, int threads,
            Path work) throws Exception {
        ServiceBenchmark.deleteRecursively(work);
        Files.createDirectories(work);
        ArtifactSet set = ArtifactSet.open(artifacts);
        Path version = Files.createDirectories(work.resolve("base"));
        Files.copy(set.checkpoint(), version.resolve("checkpoint"));
        set.exportInference(env, version.resolve("checkpoint"), version.resolve("inference.onnx"));
        TrainingRound.Base base = new TrainingRound.Base(1, version.resolve("checkpoint"),
                version.resolve("inference.onnx"), set.description().inferenceOutput());
        try (SampleJournal journal = SampleJournal.open(work.resolve("samples"),
                SampleJournal.Settings.of(Math.max(1_000, samples), 0.2))) {
            journal.append(randomSamples(set, samples, 7));
            RoundSettings settings = new RoundSettings(EPOCHS, batch, 0.001, 1.0, 0.0);
            Phase full = round(env, set, base, journal, settings, threads, work.resolve("full"), null);
            FeatureCache cache = new FeatureCache(work.resolve("feature-cache"), 256L << 20, true);
            Phase cached = round(env, set, base, journal, settings, threads, work.resolve("cached"), cache);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("samples", samples);
            json.put("epochs", EPOCHS);
            json.put("batch", batch);
            json.put("full_graph_train_phase_samples_per_s", Latencies.round(full.samplesPerSecond()));
            json.put("cached_train_phase_samples_per_s", Latencies.round(cached.samplesPerSecond()));
            json.put("full_graph_train_phase_seconds", Latencies.round(full.seconds()));
            json.put("cached_train_phase_seconds", Latencies.round(cached.seconds()));
            json.put("cached_round_speedup", Latencies.round(cached.samplesPerSecond() / full.samplesPerSecond()));
            json.put("feature_cache", cached.featureCache());
            return json;
        } finally {
            ServiceBenchmark.deleteRecursively(work);
        }
    }

    private static Phase round(OrtEnvironment env, ArtifactSet set, TrainingRound.Base base, SampleJournal journal,
            RoundSettings settings, int threads, Path work, FeatureCache cache) {
        List<long[]> marks = new ArrayList<>();
        TrainingRound round = new TrainingRound(env, set, base, journal.snapshot(), settings, 11, threads,
                new PromotionGate(new PromotionGate.Thresholds(1e6, OptionalDouble.empty(), 1.0)), work,
                (RoundRecord.Progress p) -> marks.add(new long[] {System.nanoTime(), p.step(),
                        p.phase().equals("evaluating") ? 1 : 0}),
                () -> false);
        if (cache != null) {
            round.useFeatureCache(cache);
        }
        TrainingRound.Outcome outcome = round.run();
        long[] first = marks.get(0);
        long[] end = marks.stream().filter(m -> m[2] == 1).findFirst().orElseThrow();
        double seconds = (end[0] - first[0]) / 1e9;
        long trained = (end[1] - first[1]) * settings.batchSize();
        Map<String, Object> use = new LinkedHashMap<>();
        use.put("used", outcome.featureCache().used());
        use.put("reason", outcome.featureCache().reason());
        use.put("hit_rate", Latencies.round(outcome.featureCache().hitRate()));
        use.put("features", outcome.featureCache().features());
        return new Phase(trained / seconds, seconds, use);
    }

    private static List<LabelledInput> randomSamples(ArtifactSet set, int n, long seed) {
        Random random = new Random(seed);
        int classes = Math.max(2, set.description().numClasses());
        List<LabelledInput> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Map<String, Tensor> inputs = new LinkedHashMap<>();
            for (TensorSpec spec : set.description().inputs()) {
                long[] shape = spec.shape().subList(1, spec.shape().size()).stream().mapToLong(Long::longValue).toArray();
                float[] values = new float[(int) Shapes.elementCount(shape)];
                for (int k = 0; k < values.length; k++) {
                    values[k] = (float) random.nextGaussian();
                }
                inputs.put(spec.name(), Tensor.ofFloats(shape, values));
            }
            out.add(new LabelledInput(inputs, new SampleLabel.ClassIndex(random.nextInt(classes))));
        }
        return out;
    }
}

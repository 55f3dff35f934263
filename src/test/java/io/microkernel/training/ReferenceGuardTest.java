package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.demo.DefaultModel;
import io.microkernel.demo.ShapeImages;
import io.microkernel.demo.ShapeImages.Batch;
import io.microkernel.demo.ShapeImages.Domain;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.serving.RequestTranslator;
import io.microkernel.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference set against forgetting, on {@code models/default}: one round on target-style samples
 * alone, as the service runs it, three ways. Without a reference set it forgets the source style;
 * with the guard the same candidate is refused, and the decision states both versions' reference
 * accuracy; with the guard and reference replay the candidate keeps the source style within 5 points
 * and still learns the target style. Prints the numbers the README shows.
 */
class ReferenceGuardTest {

    private static final Path DEFAULT = Path.of("models", "default");
    private static final long SEED = 99;
    private static final RoundSettings SETTINGS = new RoundSettings(DefaultModel.LIFT_EPOCHS, 32,
            DefaultModel.HEAD_LEARNING_RATE, 1.0, 0.3);

    @TempDir
    Path dir;

    private final OrtEnvironment env = OrtRuntime.bundled().environment();
    private final PromotionGate gate = new PromotionGate(new PromotionGate.Thresholds(0.0, OptionalDouble.empty(), 0.1));
    private ArtifactSet set;
    private TrainingRound.Base base;
    private SampleJournal journal;
    private ReferenceSet reference;

    @BeforeEach
    void setUp() throws Exception {
        set = ArtifactSet.open(DEFAULT);
        base = TrainingFixtures.baseVersion(set, dir);
        journal = SampleJournal.open(dir.resolve("samples"), SampleJournal.Settings.of(10_000, 0.2));
        // 750 target samples: about 600 to train on, 150 held out, as a client would post them.
        journal.append(labelled(DefaultModel.targetSamples(750, SEED)));
        reference = new ReferenceSets(DEFAULT, dir.resolve("none.jsonl"), set::description,
                new RequestTranslator(256)).current().orElseThrow();
    }

    @Test
    void theShippedReferenceSetIsSourceStyleAndBalanced() {
        assertThat(reference.source()).isEqualTo("artifact set");
        assertThat(reference.size()).isEqualTo(120);
        assertThat(reference.perClass()).hasSize(6).allSatisfy((label, count) -> assertThat(count).isEqualTo(20L));
    }

    @Test
    void theGuardRefusesForgettingAndReplayKeepsBothStyles() throws Exception {
        Batch source = DefaultModel.heldOut(Domain.SOURCE, SEED);
        Batch target = DefaultModel.heldOut(Domain.TARGET, SEED);
        double[] shipped = {accuracy(base.inferenceModel(), source), accuracy(base.inferenceModel(), target)};

        TrainingRound.Outcome plain = round("plain", null);
        double[] forgot = accuracies(plain, source, target);
        assertThat(plain.decision().promote()).as(plain.decision().reason()).isTrue();
        assertThat(forgot[0]).as("source style after training on target alone").isLessThan(shipped[0] - 0.05);

        TrainingRound.Outcome guarded = round("guarded", new TrainingRound.ReferenceGuard(reference, 0.05, false));
        assertThat(guarded.decision().promote()).as(guarded.decision().reason()).isFalse();
        ReferenceCheck check = guarded.decision().reference();
        assertThat(check.passed()).isFalse();
        assertThat(check.samples()).isEqualTo(120);
        assertThat(check.activeAccuracy()).isGreaterThan(check.candidateAccuracy() + 0.05);
        assertThat(guarded.decision().reason()).contains("reference accuracy", "max-drop 0.0500");

        TrainingRound.Outcome replayed = round("replayed", new TrainingRound.ReferenceGuard(reference, 0.05, true));
        double[] kept = accuracies(replayed, source, target);
        System.out.printf(Locale.ROOT, "%nreference guard on models/default (held-out %d images per style)%n"
                + "%-44s %8s %8s %s%n%-44s %7.1f%% %7.1f%%%n%-44s %7.1f%% %7.1f%% %s%n%-44s %7.1f%% %7.1f%% %s%n"
                + "%-44s %7.1f%% %7.1f%% %s%n", source.size(), "", "source", "target", "decision",
                "shipped head", 100 * shipped[0], 100 * shipped[1],
                "round on target samples, no reference set", 100 * forgot[0], 100 * forgot[1], verdict(plain),
                "same round, guard (max-drop 0.05)", 100 * forgot[0], 100 * forgot[1], verdict(guarded),
                "guard + reference replay (fraction 0.3)", 100 * kept[0], 100 * kept[1], verdict(replayed));
        assertThat(replayed.decision().promote()).as(replayed.decision().reason()).isTrue();
        assertThat(replayed.decision().reference().passed()).isTrue();
        assertThat(kept[0]).as("source style with reference replay").isGreaterThanOrEqualTo(shipped[0] - 0.05);
        assertThat(kept[1]).as("target style with reference replay").isGreaterThanOrEqualTo(0.9);
    }

    private static String verdict(TrainingRound.Outcome outcome) {
        return outcome.decision().promote() ? "promoted" : "refused";
    }

    private TrainingRound.Outcome round(String work, TrainingRound.ReferenceGuard guard) {
        TrainingRound round = new TrainingRound(env, set, base, journal.snapshot(), SETTINGS, 7, 2, gate,
                dir.resolve(work), p -> { }, () -> false);
        if (guard != null) {
            round.withReference(guard);
        }
        return round.run();
    }

    private double[] accuracies(TrainingRound.Outcome outcome, Batch source, Batch target) throws Exception {
        Path model = outcome.candidateDir().resolve(TrainingRound.INFERENCE_MODEL);
        return new double[] {accuracy(model, source), accuracy(model, target)};
    }

    private double accuracy(Path model, Batch batch) throws Exception {
        List<Sample> samples = new ArrayList<>();
        List<LabelledInput> rows = labelled(batch);
        for (int i = 0; i < rows.size(); i++) {
            samples.add(new Sample(i + 1, 0, rows.get(i).inputs(), rows.get(i).label()));
        }
        HoldoutScorer scorer = new HoldoutScorer(env, set.description(), samples, 256);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                OrtSession session = env.createSession(model.toString(), options)) {
            return scorer.metrics(Double.NaN, scorer.predict(session, set.description().inferenceOutput())).accuracy();
        }
    }

    private List<LabelledInput> labelled(Batch batch) {
        String input = set.description().inputs().get(0).name();
        List<LabelledInput> rows = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Tensor image = Tensor.ofFloats(new long[] {1, ShapeImages.SIZE, ShapeImages.SIZE}, batch.pixels()[i]);
            rows.add(new LabelledInput(Map.of(input, image), new SampleLabel.ClassIndex(batch.labels()[i])));
        }
        return rows;
    }
}

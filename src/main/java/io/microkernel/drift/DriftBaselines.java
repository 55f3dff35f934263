package io.microkernel.drift;

import io.microkernel.serving.Classification;
import io.microkernel.serving.LoadedModel;
import io.microkernel.serving.ServedModel;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.training.ReferenceSet;
import io.microkernel.training.ReferenceSets;
import io.microkernel.training.RoundRecord;
import io.microkernel.training.RoundScheduler;
import io.microkernel.training.RoundState;
import io.microkernel.training.Sample;
import io.microkernel.training.SampleJournal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Builds the baseline of a version from the samples it was trained on: for a version a round
 * promoted, the fresh training samples of that round (those after the previous promoted round's);
 * for the version the lineage started from (or when those samples are no longer buffered), the
 * reference set, which stands for what the artifact set was trained on. The version itself
 * classifies them, so predicted classes and confidence have a baseline too.
 *
 * <p>Thread-safe; runs off the request threads.
 */
final class DriftBaselines {

    /** The most samples a baseline is built from (the newest). */
    static final int MAX_SAMPLES = 2000;
    private static final int BATCH = 128;

    private final ServedModel served;
    private final RoundScheduler scheduler;
    private final ReferenceSets references;

    DriftBaselines(ServedModel served, RoundScheduler scheduler, ReferenceSets references) {
        this.served = served;
        this.scheduler = scheduler;
        this.references = references;
    }

    /**
     * The samples of a baseline.
     *
     * @param inputs the samples whose inputs it summarises (what the version trained on)
     * @param scored the samples it classifies: held-out ones of the same round when there are any, since a
     *               version is more confident on what it trained on than on traffic like it
     */
    private record Samples(List<Sample> inputs, List<Sample> scored) {
    }

    Baseline build(int version) {
        Samples samples = trainedOn(version);
        if (samples.inputs().isEmpty()) {
            return Baseline.none(version, "no baseline for version " + version + ": expected its training samples "
                    + "in the buffer or a reference set, found neither");
        }
        return served.withModel(OptionalInt.of(version), model -> summarise(model, samples));
    }

    private Baseline summarise(LoadedModel model, Samples samples) {
        List<TensorSpec> specs = model.signature().inputs();
        List<NamedTensor> all = new ArrayList<>();
        for (TensorSpec spec : specs) {
            all.add(new NamedTensor(spec.name(), Tensor.stack(samples.inputs().stream()
                    .map(s -> s.inputs().get(spec.name())).toList())));
        }
        List<Classification> classified = new ArrayList<>();
        List<Sample> scored = samples.scored();
        for (int from = 0; from < scored.size(); from += BATCH) {
            List<Sample> part = scored.subList(from, Math.min(scored.size(), from + BATCH));
            List<NamedTensor> batch = new ArrayList<>();
            for (TensorSpec spec : specs) {
                batch.add(new NamedTensor(spec.name(), Tensor.stack(part.stream().map(s -> s.inputs().get(spec.name())).toList())));
            }
            classified.addAll(model.run(batch).classifications());
        }
        int classes = classified.isEmpty() ? 0 : classified.get(0).scores().length;
        return Baseline.of(model.version(), all, classified, classes);
    }

    private Samples trainedOn(int version) {
        ModelVersion info = served.store().version(version);
        String roundId = info.lineage().roundId();
        Samples samples = roundId == null ? null : roundSamples(roundId);
        if (samples == null || samples.inputs().isEmpty()) {
            List<Sample> reference = references.current().map(ReferenceSet::samples).orElse(List.of());
            samples = new Samples(reference, reference);
        }
        return new Samples(newest(samples.inputs()), newest(samples.scored()));
    }

    private static List<Sample> newest(List<Sample> samples) {
        return samples.size() > MAX_SAMPLES ? samples.subList(samples.size() - MAX_SAMPLES, samples.size()) : samples;
    }

    private Samples roundSamples(String roundId) {
        long id;
        try {
            id = Long.parseLong(roundId);
        } catch (NumberFormatException e) {
            return null;
        }
        Optional<RoundRecord> round = scheduler.records().find(id);
        if (round.isEmpty() || round.get().samples() == null) {
            return null;
        }
        long upper = round.get().samples().throughId();
        long lower = scheduler.records().newest(id, r -> r.state() == RoundState.PROMOTED && r.samples() != null)
                .map(r -> r.samples().throughId()).orElse(0L);
        SampleJournal.Snapshot snapshot = scheduler.journal().snapshot();
        List<Sample> train = snapshot.train().stream().filter(s -> s.id() > lower && s.id() <= upper).toList();
        List<Sample> holdout = snapshot.holdout().stream().filter(s -> s.id() > lower && s.id() <= upper).toList();
        return new Samples(train, holdout.isEmpty() ? train : holdout);
    }
}

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

    Baseline build(int version) {
        List<Sample> samples = trainedOn(version);
        if (samples.isEmpty()) {
            return Baseline.none(version, "no baseline for version " + version + ": expected its training samples "
                    + "in the buffer or a reference set, found neither");
        }
        return served.withModel(OptionalInt.of(version), model -> summarise(model, samples));
    }

    private Baseline summarise(LoadedModel model, List<Sample> samples) {
        List<TensorSpec> specs = model.signature().inputs();
        List<NamedTensor> all = new ArrayList<>();
        for (TensorSpec spec : specs) {
            all.add(new NamedTensor(spec.name(), Tensor.stack(samples.stream().map(s -> s.inputs().get(spec.name())).toList())));
        }
        List<Classification> classified = new ArrayList<>();
        for (int from = 0; from < samples.size(); from += BATCH) {
            List<Sample> part = samples.subList(from, Math.min(samples.size(), from + BATCH));
            List<NamedTensor> batch = new ArrayList<>();
            for (TensorSpec spec : specs) {
                batch.add(new NamedTensor(spec.name(), Tensor.stack(part.stream().map(s -> s.inputs().get(spec.name())).toList())));
            }
            classified.addAll(model.run(batch).classifications());
        }
        int classes = classified.isEmpty() ? 0 : classified.get(0).scores().length;
        return Baseline.of(model.version(), all, classified, classes);
    }

    private List<Sample> trainedOn(int version) {
        ModelVersion info = served.store().version(version);
        String roundId = info.lineage().roundId();
        List<Sample> samples = List.of();
        if (roundId != null) {
            samples = roundSamples(roundId);
        }
        if (samples.isEmpty()) {
            samples = references.current().map(ReferenceSet::samples).orElse(List.of());
        }
        return samples.size() > MAX_SAMPLES ? samples.subList(samples.size() - MAX_SAMPLES, samples.size()) : samples;
    }

    private List<Sample> roundSamples(String roundId) {
        long id;
        try {
            id = Long.parseLong(roundId);
        } catch (NumberFormatException e) {
            return List.of();
        }
        Optional<RoundRecord> round = scheduler.records().find(id);
        if (round.isEmpty() || round.get().samples() == null) {
            return List.of();
        }
        long upper = round.get().samples().throughId();
        long lower = scheduler.records().list().stream()
                .filter(r -> r.id() < id && r.state() == RoundState.PROMOTED && r.samples() != null)
                .mapToLong(r -> r.samples().throughId()).max().orElse(0);
        return scheduler.journal().snapshot().train().stream().filter(s -> s.id() > lower && s.id() <= upper).toList();
    }
}

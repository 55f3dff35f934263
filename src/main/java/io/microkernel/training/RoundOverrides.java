package io.microkernel.training;

import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Per-round changes to the configured training settings; absent values keep the configuration's.
 * Immutable.
 */
public record RoundOverrides(OptionalInt epochs, OptionalInt batchSize, OptionalDouble learningRate,
        OptionalLong seed) {

    public static final RoundOverrides NONE = new RoundOverrides(OptionalInt.empty(), OptionalInt.empty(),
            OptionalDouble.empty(), OptionalLong.empty());

    /** The settings with these overrides applied; validates the result. */
    public RoundSettings applyTo(RoundSettings defaults) {
        return new RoundSettings(epochs.orElse(defaults.epochs()), batchSize.orElse(defaults.batchSize()),
                learningRate.orElse(defaults.learningRate()), defaults.learningRateDecay(), defaults.replayFraction());
    }

    public static RoundOverrides of(Integer epochs, Integer batchSize, Double learningRate, Long seed) {
        return new RoundOverrides(
                epochs == null ? OptionalInt.empty() : OptionalInt.of(epochs),
                batchSize == null ? OptionalInt.empty() : OptionalInt.of(batchSize),
                learningRate == null ? OptionalDouble.empty() : OptionalDouble.of(learningRate),
                Optional.ofNullable(seed).map(OptionalLong::of).orElse(OptionalLong.empty()));
    }
}

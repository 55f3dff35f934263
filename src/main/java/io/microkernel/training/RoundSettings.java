package io.microkernel.training;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.microkernel.problem.ProblemException;
import io.microkernel.problem.ProblemType;

/**
 * How a round trains: the configured defaults with a request's overrides applied. Immutable.
 *
 * @param epochs            passes over the new training samples
 * @param batchSize         samples per optimizer step
 * @param learningRate      the first epoch's learning rate
 * @param learningRateDecay factor applied to the learning rate after each epoch (1.0 = constant)
 * @param replayFraction    share of each minibatch drawn from samples an earlier promoted round learned from
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record RoundSettings(int epochs, int batchSize, double learningRate, double learningRateDecay,
        double replayFraction) {

    public RoundSettings {
        if (epochs < 1 || epochs > 10_000) {
            throw invalid("epochs must be in [1, 10000], found " + epochs);
        }
        if (batchSize < 1 || batchSize > 65_536) {
            throw invalid("batch_size must be in [1, 65536], found " + batchSize);
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw invalid("learning_rate must be a finite number above 0, found " + learningRate);
        }
        if (!(learningRateDecay > 0 && learningRateDecay <= 1)) {
            throw invalid("learning-rate-decay must be in (0, 1], found " + learningRateDecay);
        }
        if (!(replayFraction >= 0 && replayFraction < 1)) {
            throw invalid("replay-fraction must be in [0, 1), found " + replayFraction);
        }
    }

    private static ProblemException invalid(String detail) {
        return new ProblemException(ProblemType.INVALID_ROUND_REQUEST, detail);
    }

    /** The learning rate of epoch {@code epoch} (from 1), after the per-epoch decay. */
    public double learningRateAt(int epoch) {
        return learningRate * Math.pow(learningRateDecay, epoch - 1);
    }
}

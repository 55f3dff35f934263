package io.microkernel.tensor;

import java.util.function.IntToDoubleFunction;

/** Reading class scores. Stateless and thread-safe. */
public final class Scores {

    private Scores() {
    }

    /**
     * The index of the highest score, the first one on ties; {@code -1} when any score is NaN, so a
     * diverged model is never credited with a class by chance.
     */
    public static int argmax(double[] scores) {
        return argmax(scores.length, k -> scores[k]);
    }

    /** As {@link #argmax(double[])}, for float scores. */
    public static int argmax(float[] scores) {
        return argmax(scores.length, k -> scores[k]);
    }

    private static int argmax(int count, IntToDoubleFunction score) {
        int best = 0;
        for (int k = 0; k < count; k++) {
            if (Double.isNaN(score.applyAsDouble(k))) {
                return -1;
            }
            if (score.applyAsDouble(k) > score.applyAsDouble(best)) {
                best = k;
            }
        }
        return best;
    }
}

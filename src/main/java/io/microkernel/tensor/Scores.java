package io.microkernel.tensor;

/** Reading class scores. Stateless and thread-safe. */
public final class Scores {

    private Scores() {
    }

    /**
     * The index of the highest score, the first one on ties; {@code -1} when any score is NaN, so a
     * diverged model is never credited with a class by chance.
     */
    public static int argmax(double[] scores) {
        int best = 0;
        for (int k = 0; k < scores.length; k++) {
            if (Double.isNaN(scores[k])) {
                return -1;
            }
            if (scores[k] > scores[best]) {
                best = k;
            }
        }
        return best;
    }
}

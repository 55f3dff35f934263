package io.microkernel.drift;

/**
 * Counts over fixed bins, and the population stability index between two of them. Not thread-safe.
 */
final class Histogram {

    /** Keeps an empty bin from making the index infinite. */
    private static final double FLOOR = 1e-4;

    private final long[] counts;
    private long total;

    Histogram(int bins) {
        counts = new long[bins];
    }

    void add(int bin) {
        counts[bin]++;
        total++;
    }

    void remove(int bin) {
        counts[bin]--;
        total--;
    }

    long total() {
        return total;
    }

    int bins() {
        return counts.length;
    }

    /**
     * {@code sum((a - e) * ln(a / e))} over the bins, with shares floored at 1e-4; 0 means the same
     * distribution, above 0.25 is commonly read as a major shift. NaN when either side is empty.
     */
    static double psi(Histogram expected, Histogram actual) {
        if (expected.total == 0 || actual.total == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < expected.counts.length; i++) {
            double e = Math.max(FLOOR, (double) expected.counts[i] / expected.total);
            double a = Math.max(FLOOR, (double) actual.counts[i] / actual.total);
            sum += (a - e) * Math.log(a / e);
        }
        return sum;
    }
}

package io.microkernel.drift;

import io.microkernel.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * How one row is summarised: per input, the mean of the row's values, binned at the deciles the
 * baseline's row means had; the predicted class; the confidence (top score) in ten bins of 0.1.
 * Immutable.
 *
 * @param inputs     the input names, in the model's order
 * @param edges      per input, the nine inner bin edges (the baseline's deciles)
 * @param classes    the number of classes (0 when the model is no classifier)
 */
record Profile(List<String> inputs, double[][] edges, int classes) {

    static final int BINS = 10;

    /** The bins of the baseline's row means: its deciles, so each baseline bin holds a tenth. */
    static double[] decileEdges(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double[] edges = new double[BINS - 1];
        for (int i = 1; i < BINS; i++) {
            edges[i - 1] = sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, i * sorted.length / BINS)];
        }
        return edges;
    }

    int inputBin(int input, double rowMean) {
        double[] e = edges[input];
        int bin = 0;
        while (bin < e.length && rowMean > e[bin]) {
            bin++;
        }
        return bin;
    }

    static int confidenceBin(double confidence) {
        return Math.max(0, Math.min(BINS - 1, (int) (confidence * BINS)));
    }

    /** The mean of row {@code row}'s values. */
    static double rowMean(Tensor tensor, int row) {
        int length = tensor.rank() <= 1 ? 1 : tensor.rowLength();
        double sum = 0;
        int from = row * length;
        for (int i = 0; i < length; i++) {
            sum += tensor.getDouble(from + i);
        }
        return length == 0 ? 0 : sum / length;
    }
}

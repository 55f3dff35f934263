package io.microkernel.drift;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.serving.Classification;
import io.microkernel.serving.Prediction;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DriftWatchTest {

    private final SplittableRandom random = new SplittableRandom(3);

    /** {@code rows} rows of four values around {@code level}, and a classification of each as class 0 or 1. */
    private List<NamedTensor> rows(int rows, double level) {
        float[] values = new float[rows * 4];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (level + random.nextGaussian() * 0.1);
        }
        return List.of(new NamedTensor("x", Tensor.ofFloats(new long[] {rows, 4}, values)));
    }

    private static List<Classification> classified(int rows, int index) {
        List<Classification> out = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            out.add(new Classification(index, "c" + index, index == 0 ? new double[] {0.9, 0.1} : new double[] {0.2, 0.8}));
        }
        return out;
    }

    private DriftWatch watch(AtomicInteger asked) {
        DriftWatch watch = new DriftWatch(new DriftWatch.Settings(200, 50, 0.25), asked::set);
        watch.rebase(Baseline.of(1, rows(400, 0.2), classified(400, 0), 2));
        return watch;
    }

    @Test
    void trafficLikeTheBaselineHasALowIndexAndShiftedTrafficAHighOne() {
        DriftWatch watch = watch(new AtomicInteger());
        watch.observe(rows(200, 0.2), new Prediction(1, List.of(), classified(200, 0)));
        DriftReport same = watch.report();
        assertThat(same.servedRows()).isEqualTo(200);
        assertThat(same.psi()).isLessThan(0.25);
        assertThat(same.drifted()).isFalse();

        // The window holds the last 200 rows: shifted traffic replaces what came before.
        watch.observe(rows(200, 0.7), new Prediction(1, List.of(), classified(200, 1)));
        DriftReport shifted = watch.report();
        assertThat(shifted.servedRows()).isEqualTo(200);
        assertThat(shifted.inputs().get("x")).isGreaterThan(1.0);
        assertThat(shifted.predictedClass()).isGreaterThan(1.0);
        assertThat(shifted.drifted()).isTrue();
        assertThat(shifted.servedMean().get("x")).isCloseTo(0.7, org.assertj.core.data.Offset.offset(0.02));
        assertThat(shifted.baselineMean().get("x")).isCloseTo(0.2, org.assertj.core.data.Offset.offset(0.02));
    }

    @Test
    void tooFewRowsGiveNoNumberAndAnotherVersionAsksForItsBaseline() {
        AtomicInteger asked = new AtomicInteger(-1);
        DriftWatch watch = watch(asked);
        watch.observe(rows(10, 0.9), new Prediction(1, List.of(), classified(10, 1)));
        assertThat(watch.report().psi()).isNull();
        assertThat(watch.report().note()).contains("expected at least 50 served rows, found 10");

        watch.observe(rows(10, 0.9), new Prediction(2, List.of(), classified(10, 1)));
        assertThat(asked.get()).isEqualTo(2);
        assertThat(watch.report().servedRows()).as("version 2's rows are not compared with version 1's baseline")
                .isEqualTo(10);
    }

    @Test
    void identicalHistogramsHaveIndexZero() {
        Histogram a = new Histogram(3);
        Histogram b = new Histogram(3);
        for (int i = 0; i < 3; i++) {
            a.add(i);
            b.add(i);
        }
        assertThat(Histogram.psi(a, b)).isZero();
        assertThat(Histogram.psi(a, new Histogram(3))).isNaN();
    }
}

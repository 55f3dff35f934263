package io.microkernel.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.demo.ShapeImages.Batch;
import io.microkernel.demo.ShapeImages.Domain;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShapeImagesTest {

    @Test
    void equalSeedsGiveEqualImagesAndOtherSeedsDoNot() {
        Batch first = ShapeImages.generate(Domain.TARGET, 60, 42);
        Batch again = ShapeImages.generate(Domain.TARGET, 60, 42);
        Batch other = ShapeImages.generate(Domain.TARGET, 60, 43);
        assertThat(again.labels()).isEqualTo(first.labels());
        assertThat(again.pixels()).isDeepEqualTo(first.pixels());
        assertThat(java.util.Arrays.deepEquals(other.pixels(), first.pixels())).isFalse();
    }

    @Test
    void classesAreBalancedAndPixelsAreInRange() {
        Batch batch = ShapeImages.generate(Domain.SOURCE, 120, 7);
        int[] counts = new int[ShapeImages.CLASSES.size()];
        for (int label : batch.labels()) {
            counts[label]++;
        }
        assertThat(counts).containsOnly(120 / ShapeImages.CLASSES.size());
        for (float[] image : batch.pixels()) {
            assertThat(image).hasSize(ShapeImages.PIXELS);
            for (float p : image) {
                assertThat(p).isBetween(0f, 1f);
            }
        }
    }

    @Test
    void theTargetStyleIsDarkInkOnBrightPaper() {
        // The shift between the tasks: the source draws bright ink on dark paper, the target the reverse.
        assertThat(meanBrightness(ShapeImages.generate(Domain.SOURCE, 60, 1))).isLessThan(0.35);
        assertThat(meanBrightness(ShapeImages.generate(Domain.TARGET, 60, 1))).isGreaterThan(0.65);
    }

    @Test
    void samplesForTheHttpApiNestOneInstanceAsTheModelInput() {
        Batch batch = ShapeImages.generate(Domain.TARGET, 3, 5);
        List<Map<String, Object>> samples = batch.asJsonSamples();
        assertThat(samples).hasSize(3);
        float[][][] input = (float[][][]) samples.get(1).get("input");
        assertThat(input.length).isEqualTo(1);
        assertThat(input[0]).hasNumberOfRows(ShapeImages.SIZE);
        assertThat(input[0][7]).hasSize(ShapeImages.SIZE);
        assertThat(input[0][7][3]).isEqualTo(batch.pixels()[1][7 * ShapeImages.SIZE + 3]);
        assertThat(samples.get(1).get("label")).isEqualTo(ShapeImages.CLASSES.get(batch.labels()[1]));
    }

    private static double meanBrightness(Batch batch) {
        double sum = 0;
        for (float[] image : batch.pixels()) {
            for (float p : image) {
                sum += p;
            }
        }
        return sum / (batch.size() * (double) ShapeImages.PIXELS);
    }
}

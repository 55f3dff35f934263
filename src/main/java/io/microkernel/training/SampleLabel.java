package io.microkernel.training;

import io.microkernel.tensor.Shapes;
import java.util.Arrays;

/**
 * The label of one sample: a class index for cross-entropy models, a float target for MSE models.
 * Immutable; safe to share between threads.
 */
public sealed interface SampleLabel {

    /** A class index in {@code [0, classes)}. */
    record ClassIndex(int index) implements SampleLabel {
        public ClassIndex {
            if (index < 0) {
                throw new IllegalArgumentException("a class index is at least 0, found " + index);
            }
        }
    }

    /** A regression target with the label input's per-instance shape (no batch dimension). */
    record Target(long[] shape, float[] values) implements SampleLabel {
        public Target {
            shape = shape.clone();
            values = values.clone();
            long n = Shapes.elementCount(shape);
            if (n != values.length) {
                throw new IllegalArgumentException("target shape " + Arrays.toString(shape) + " expects " + n
                        + " values, found " + values.length);
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public float[] values() {
            return values.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Target t && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "Target" + Arrays.toString(values);
        }
    }
}

package io.microkernel.serving;

import io.microkernel.tensor.DType;
import java.util.List;

/**
 * One output tensor of a model run, copied out of native memory.
 *
 * @param name  the graph output name
 * @param dtype the element type
 * @param shape the concrete shape, batch first
 * @param data  the elements in row-major order: {@code float[]}, {@code double[]}, {@code int[]},
 *              {@code long[]} or {@code boolean[]} as {@code dtype} says
 */
public record OutputTensor(String name, DType dtype, List<Long> shape, Object data) {

    public OutputTensor {
        shape = List.copyOf(shape);
    }

    /** Elements per batch row (the product of every dimension after the first). */
    public int rowLength() {
        long n = 1;
        for (int i = 1; i < shape.size(); i++) {
            n *= shape.get(i);
        }
        return (int) n;
    }

    /** Row {@code row} as doubles, whatever the dtype (booleans read as 0 and 1). */
    public double[] rowAsDoubles(int row) {
        int length = rowLength();
        double[] out = new double[length];
        int offset = row * length;
        for (int i = 0; i < length; i++) {
            out[i] = switch (dtype) {
                case FLOAT -> ((float[]) data)[offset + i];
                case DOUBLE -> ((double[]) data)[offset + i];
                case INT32 -> ((int[]) data)[offset + i];
                case INT64 -> ((long[]) data)[offset + i];
                case BOOL -> ((boolean[]) data)[offset + i] ? 1 : 0;
            };
        }
        return out;
    }
}

package io.microkernel.testing;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.serving.TensorData;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A tensor's elements as Java arrays, so tests can compare them with AssertJ; and OIP data from JSON text. */
public final class TensorValues {

    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private TensorValues() {
    }

    public static float[] floats(Tensor t) {
        float[] out = new float[t.elementCount()];
        t.floats().get(out);
        return out;
    }

    public static double[] doubles(Tensor t) {
        double[] out = new double[t.elementCount()];
        t.doubles().get(out);
        return out;
    }

    public static int[] ints(Tensor t) {
        int[] out = new int[t.elementCount()];
        t.ints().get(out);
        return out;
    }

    public static long[] longs(Tensor t) {
        long[] out = new long[t.elementCount()];
        t.longs().get(out);
        return out;
    }

    public static boolean[] booleans(Tensor t) {
        boolean[] out = new boolean[t.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.getLong(i) != 0;
        }
        return out;
    }

    /** One row (an instance or a sample's input) as the request reader buffers it. */
    public static TokenBuffer tokens(String json) {
        try {
            return JSON.readValue(json, TokenBuffer.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** OIP {@code data} as a request reader buffers it when the type and shape come after it. */
    public static TensorData data(String json) {
        return TensorData.buffered(tokens(json));
    }
}

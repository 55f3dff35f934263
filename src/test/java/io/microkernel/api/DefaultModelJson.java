package io.microkernel.api;

import io.microkernel.demo.ShapeImages;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Shape images as the JSON bodies of the HTTP API. */
final class DefaultModelJson {

    private DefaultModelJson() {
    }

    /** {@code {"samples":[{"input": ..., "label": "circle"}, ...]}} of rows {@code from} to {@code to}. */
    static String samples(ShapeImages.Batch batch, int from, int to) {
        List<String> samples = new ArrayList<>();
        for (int i = from; i < to; i++) {
            samples.add("{\"input\":" + nested(batch.instance(i)) + ",\"label\":\"" + batch.className(i) + "\"}");
        }
        return "{\"samples\":[" + String.join(",", samples) + "]}";
    }

    static String nested(float[][][] image) {
        return Arrays.stream(image).map(plane -> Arrays.stream(plane).map(DefaultModelJson::floats)
                .collect(Collectors.joining(",", "[", "]"))).collect(Collectors.joining(",", "[", "]"));
    }

    static String floats(float[] values) {
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                text.append(',');
            }
            text.append(values[i]);
        }
        return text.append(']').toString();
    }
}

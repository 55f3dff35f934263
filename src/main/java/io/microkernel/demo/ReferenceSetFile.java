package io.microkernel.demo;

import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.Manifest;
import io.microkernel.demo.ShapeImages.Batch;
import io.microkernel.demo.ShapeImages.Domain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The reference set {@code models/default} ships: held-out source-style images with their class
 * names, so the gate can see a candidate forget the source style. Written as JSON Lines, one
 * {@code {"input": [[[...16 x 16...]]], "label": "circle"}} per line (the format the service reads),
 * and named in the artifact set's {@code manifest.json} as {@code "reference_set"}.
 */
public final class ReferenceSetFile {

    /** The file name inside the artifact set. */
    public static final String FILE = "reference.jsonl";
    /** Source-style images in the shipped reference set (classes balanced). */
    public static final int SAMPLES = 120;

    private ReferenceSetFile() {
    }

    /** The reference images of {@code seed}: source style, drawn from a stream no other set of the recipe uses. */
    public static Batch images(long seed) {
        return ShapeImages.generate(Domain.SOURCE, SAMPLES, seed * 7919 + 5000);
    }

    /** Writes the reference set into the artifact set in {@code dir} and names it in its manifest. */
    public static void write(Path dir, long seed) {
        Batch batch = images(seed);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < batch.size(); i++) {
            text.append("{\"input\":").append(nested(batch.instance(i))).append(",\"label\":\"")
                    .append(batch.className(i)).append("\"}\n");
        }
        Path manifest = dir.resolve(ArtifactSet.MANIFEST);
        try {
            Files.writeString(dir.resolve(FILE), text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
        Manifest.read(manifest).withReferenceSet(FILE).write(manifest);
    }

    /** One image as {@code [[[row], [row], ...]]} (one channel), three decimals per pixel. */
    private static String nested(float[][][] image) {
        StringBuilder text = new StringBuilder("[");
        for (int c = 0; c < image.length; c++) {
            text.append(c > 0 ? "," : "").append('[');
            for (int y = 0; y < image[c].length; y++) {
                text.append(y > 0 ? "," : "").append('[');
                for (int x = 0; x < image[c][y].length; x++) {
                    text.append(x > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", image[c][y][x]));
                }
                text.append(']');
            }
            text.append(']');
        }
        return text.append(']').toString();
    }
}

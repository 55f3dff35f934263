package io.microkernel.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Procedurally drawn 16x16 grayscale shapes: the data of the default model, deterministic by seed.
 *
 * <p>Every image is computed from distances to an ideal shape (no fonts, no AWT, no files), so the
 * same seed yields bit-identical images on every machine. The domains share the six classes:
 * {@link Domain#SOURCE} draws solid bright shapes on a dark background, {@link Domain#TARGET}
 * draws thin dark outlines on a bright, noisier background. A classifier trained on one domain
 * does poorly on the other, which is the shift the default model's head learns to bridge. The
 * default model's backbone is also pretrained on {@link Domain#INVERTED}, the source style with
 * its polarity inverted.
 *
 * <p>Stateless and thread-safe.
 */
public final class ShapeImages {

    /** Image height and width in pixels. */
    public static final int SIZE = 16;

    /** Pixels per image. */
    public static final int PIXELS = SIZE * SIZE;

    /** The class names, in label-index order; the default model's manifest uses them. */
    public static final List<String> CLASSES = List.of("circle", "square", "triangle", "diamond", "plus", "cross");

    private ShapeImages() {
    }

    /** How a domain draws its shapes. */
    public enum Domain {
        /** Filled bright shapes (lines drawn thick) on a dark background, little noise. */
        SOURCE(false, true, 1.6, 2.6, 0.06),
        /** Thin dark outlines on a bright background, more noise. */
        TARGET(true, false, 0.9, 1.4, 0.10),
        /** The source style with its polarity inverted: filled dark shapes on a bright background, little noise. */
        INVERTED(true, true, 1.6, 2.6, 0.06);

        final boolean inverted;
        final boolean filled;
        final double minStroke;
        final double maxStroke;
        final double noise;

        Domain(boolean inverted, boolean filled, double minStroke, double maxStroke, double noise) {
            this.inverted = inverted;
            this.filled = filled;
            this.minStroke = minStroke;
            this.maxStroke = maxStroke;
            this.noise = noise;
        }
    }

    /**
     * Labelled images of one domain.
     *
     * @param pixels one row of {@link #PIXELS} values in [0, 1] per image, row-major
     * @param labels the class index of each image, into {@link #CLASSES}
     */
    public record Batch(float[][] pixels, int[] labels) {

        public int size() {
            return labels.length;
        }

        /** All images as one flat array in {@code [n,1,16,16]} order, ready for a tensor. */
        public float[] flatten(int from, int to) {
            float[] flat = new float[(to - from) * PIXELS];
            for (int i = from; i < to; i++) {
                System.arraycopy(pixels[i], 0, flat, (i - from) * PIXELS, PIXELS);
            }
            return flat;
        }

        /** The labels {@code [from, to)} as int64, the label type of a cross-entropy artifact set. */
        public long[] labels(int from, int to) {
            long[] out = new long[to - from];
            for (int i = from; i < to; i++) {
                out[i - from] = labels[i];
            }
            return out;
        }

        /** One image shaped {@code [1][16][16]}: one instance of the model input, as JSON would nest it. */
        public float[][][] instance(int index) {
            float[][][] image = new float[1][SIZE][SIZE];
            for (int y = 0; y < SIZE; y++) {
                System.arraycopy(pixels[index], y * SIZE, image[0][y], 0, SIZE);
            }
            return image;
        }

        /**
         * The images as labelled samples the way the samples endpoint takes them:
         * {@code {"input": [[[...16 floats] x16]], "label": "circle"}}, ready for a JSON mapper.
         */
        public List<Map<String, Object>> asJsonSamples() {
            List<Map<String, Object>> samples = new ArrayList<>(size());
            for (int i = 0; i < size(); i++) {
                Map<String, Object> sample = new LinkedHashMap<>();
                sample.put("input", instance(i));
                sample.put("label", className(i));
                samples.add(sample);
            }
            return samples;
        }

        /** The class name of one image. */
        public String className(int index) {
            return CLASSES.get(labels[index]);
        }
    }

    /**
     * Draws {@code count} images of {@code domain}, classes balanced and shuffled.
     *
     * @param seed the only source of randomness: equal seeds give equal batches
     */
    public static Batch generate(Domain domain, int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = i % CLASSES.size();
        }
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = labels[i];
            labels[i] = labels[j];
            labels[j] = t;
        }
        float[][] pixels = new float[count][];
        for (int i = 0; i < count; i++) {
            pixels[i] = draw(labels[i], domain, random);
        }
        return new Batch(pixels, labels);
    }

    /** Draws one image of class {@code label} in {@code domain}, consuming randomness from {@code random}. */
    public static float[] draw(int label, Domain domain, SplittableRandom random) {
        double radius = uniform(random, 3.6, 6.2);
        double margin = Math.min(SIZE / 2.0, radius + 0.5);
        double cx = uniform(random, margin, SIZE - margin);
        double cy = uniform(random, margin, SIZE - margin);
        double angle = Math.toRadians(uniform(random, -12, 12));
        double stroke = uniform(random, domain.minStroke, domain.maxStroke);
        double ink = uniform(random, 0.75, 1.0);
        double paper = uniform(random, 0.0, 0.15);
        double cos = Math.cos(angle);
        double sin = Math.sin(angle);
        float[] image = new float[PIXELS];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                double dx = x + 0.5 - cx;
                double dy = y + 0.5 - cy;
                double u = cos * dx + sin * dy;
                double v = -sin * dx + cos * dy;
                double coverage = coverage(label, u, v, radius, stroke, domain.filled);
                double value = paper + (ink - paper) * coverage;
                if (domain.inverted) {
                    value = 1.0 - value;
                }
                value += domain.noise * gaussian(random);
                image[y * SIZE + x] = (float) Math.min(1.0, Math.max(0.0, value));
            }
        }
        return image;
    }

    /**
     * How much of the pixel at {@code (u, v)} (relative to the shape's centre, already rotated) the
     * shape covers, in [0, 1], from a signed distance: negative inside, zero on the edge.
     */
    private static double coverage(int label, double u, double v, double radius, double stroke, boolean filled) {
        double distance;
        switch (CLASSES.get(label)) {
            case "circle" -> distance = Math.hypot(u, v) - radius;
            case "square" -> distance = Math.max(Math.abs(u), Math.abs(v)) - radius * 0.8;
            case "diamond" -> distance = (Math.abs(u) + Math.abs(v) - radius * 1.1) / Math.sqrt(2);
            case "triangle" -> distance = triangle(u, v, radius);
            case "plus" -> {
                return edge(bars(u, v, radius, stroke * 0.5 + (filled ? 0.6 : 0.0)));
            }
            case "cross" -> {
                double r = Math.sqrt(0.5);
                return edge(bars(r * (u + v), r * (v - u), radius, stroke * 0.5 + (filled ? 0.6 : 0.0)));
            }
            default -> throw new IllegalArgumentException("unknown class index " + label);
        }
        return filled ? edge(distance) : edge(Math.abs(distance) - stroke * 0.5);
    }

    /** An upward-pointing equilateral triangle inscribed in a circle of {@code radius}: the largest half-plane distance. */
    private static double triangle(double u, double v, double radius) {
        double base = v - radius * 0.5;
        double right = u * 0.866 - v * 0.5 - radius * 0.5;
        double left = -u * 0.866 - v * 0.5 - radius * 0.5;
        return Math.max(base, Math.max(right, left));
    }

    /** Distance to a horizontal and a vertical bar of half-length {@code radius} and half-width {@code halfWidth}. */
    private static double bars(double u, double v, double radius, double halfWidth) {
        double horizontal = Math.max(Math.abs(u) - radius, Math.abs(v) - halfWidth);
        double vertical = Math.max(Math.abs(v) - radius, Math.abs(u) - halfWidth);
        return Math.min(horizontal, vertical);
    }

    /** A one-pixel anti-aliased edge. */
    private static double edge(double signedDistance) {
        return Math.min(1.0, Math.max(0.0, 0.5 - signedDistance));
    }

    private static double uniform(SplittableRandom random, double from, double to) {
        return from + (to - from) * random.nextDouble();
    }

    /** Box-Muller, so the sequence depends only on the seed (no hidden state as in java.util.Random). */
    static double gaussian(SplittableRandom random) {
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}

package io.microkernel.demo;

import io.microkernel.store.Durable;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtEnvironment;
import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.Onnx;
import io.microkernel.demo.ShapeImages.Batch;
import io.microkernel.demo.ShapeImages.Domain;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The recipe of {@code models/default} and the experiment that measures it.
 *
 * <p><b>Tasks.</b> The source task is "which of six shapes" drawn in the {@link Domain#SOURCE} style
 * (solid, bright on dark); the target task is the same question in the {@link Domain#TARGET} style
 * (thin dark outlines on a bright, noisier background). The convolutional backbone of
 * {@link ShapeClassifier} never sees a target-style image: it is pretrained on the
 * {@link #PRETRAINING_DOMAINS}, the source style and the same images with inverted polarity
 * ({@link Domain#INVERTED}, a generic augmentation), each style with its own six classes
 * ({@link #PRETRAINING_CLASSES} in all). No outline is ever drawn for it. The shipped head is then fit
 * on the source style only: it scores poorly on the target style, while a head trained on target
 * samples over the same frozen features classifies the target style well.
 *
 * <p>Measured with {@link #DEFAULT_SEED}: the shipped head scores 99.9% on the source style and
 * 33.9% on the target style; after head-only training on {@link #LIFT_SAMPLES} target samples for
 * {@link #LIFT_EPOCHS} epochs it scores 93.6% on the target style (77.0% on the source style).
 *
 * <p>Why these choices, measured while designing this recipe with the same lift protocol: over a
 * backbone pretrained on the source style alone, head training on the target style reached 83 to 86%,
 * whatever the width of the convolutions; the polarity augmentation is what carries it past 90%.
 * Labelling the inverted images as classes of their own, rather than as the same six shapes, keeps
 * the features polarity-specific, so the source-fit head stays weak on the dark-on-bright target
 * (with both polarities under six shared labels it already scored 65% there).
 *
 * <p>Stateless; each call uses its own working folder.
 */
public final class DefaultModel {

    /** The seed {@code models/default} was made with. */
    public static final long DEFAULT_SEED = 20240611L;

    /** The styles the backbone is pretrained on, each with its own six classes. */
    public static final List<Domain> PRETRAINING_DOMAINS = List.of(Domain.SOURCE, Domain.INVERTED);
    public static final int PRETRAINING_CLASSES = PRETRAINING_DOMAINS.size() * ShapeImages.CLASSES.size();

    static final int PRETRAINING_SAMPLES_PER_DOMAIN = 12_000;
    static final int PRETRAINING_EPOCHS = 6;
    static final float PRETRAINING_LEARNING_RATE = 1e-3f;
    static final int SOURCE_HEAD_SAMPLES = 6_000;
    static final int SOURCE_HEAD_EPOCHS = 5;
    /** The learning rate head training uses; also written to the manifest as a hint. */
    public static final double HEAD_LEARNING_RATE = 0.01;
    static final int BATCH_SIZE = 32;

    /** How the lift is measured: head-only training on this many target samples for this many epochs. */
    public static final int LIFT_SAMPLES = 600;
    public static final int LIFT_EPOCHS = 10;
    static final int HELD_OUT_SAMPLES = 2_000;

    private static final String DESCRIPTION = "Six shapes (16x16 grayscale). Convolutional backbone pretrained on solid"
            + " shapes, bright on dark and dark on bright; head fit on solid bright shapes; train the head on dark"
            + " outlines to adapt it."
            + " Made by: artifacts make-default DIR --seed ";

    private DefaultModel() {
    }

    /**
     * What {@link #make} measured, as shares in [0, 1].
     *
     * @param shippedSource   the shipped head on held-out source-style images
     * @param shippedTarget   the shipped head on held-out target-style images
     * @param trainedTarget   after head-only training on target samples, on held-out target images
     * @param trainedSource   after that training, on held-out source images
     */
    public record Report(long seed, double shippedSource, double shippedTarget, double trainedTarget,
            double trainedSource, long bytes) {

        public String table() {
            return String.join("\n",
                    "model                                   source style   target style",
                    String.format(Locale.ROOT, "shipped head                            %12s   %12s",
                            percent(shippedSource), percent(shippedTarget)),
                    String.format(Locale.ROOT, "head trained on %d target samples x %d  %12s   %12s",
                            LIFT_SAMPLES, LIFT_EPOCHS,
                            percent(trainedSource), percent(trainedTarget)),
                    String.format(Locale.ROOT, "(held-out: %d images per style; seed %d; artifact set %d bytes)",
                            HELD_OUT_SAMPLES, seed, bytes));
        }
    }

    /** Held-out images of a domain, never used for training by the recipe. */
    public static Batch heldOut(Domain domain, long seed) {
        return ShapeImages.generate(domain, HELD_OUT_SAMPLES, seed * 7919 + 1000 + domain.ordinal());
    }

    /** Target-style training samples, distinct from every set the recipe used. */
    public static Batch targetSamples(int count, long seed) {
        return ShapeImages.generate(Domain.TARGET, count, seed * 7919 + 2000);
    }

    /** The pretraining data: every domain, labelled {@code domainIndex * 6 + shape}. */
    public static Batch pretrainingData(long seed) {
        int perDomain = PRETRAINING_SAMPLES_PER_DOMAIN;
        float[][] pixels = new float[perDomain * PRETRAINING_DOMAINS.size()][];
        int[] labels = new int[pixels.length];
        for (int d = 0; d < PRETRAINING_DOMAINS.size(); d++) {
            Batch batch = ShapeImages.generate(PRETRAINING_DOMAINS.get(d), perDomain, seed * 7919 + 3000 + d);
            for (int i = 0; i < perDomain; i++) {
                pixels[d * perDomain + i] = batch.pixels()[i];
                labels[d * perDomain + i] = d * ShapeImages.CLASSES.size() + batch.labels()[i];
            }
        }
        return new Batch(pixels, labels);
    }

    /** The steps of {@link #make}, as progress lines number them. */
    static final int STEPS = 4;

    /**
     * Makes the default artifact set in {@code target} and measures it. Deterministic by seed with
     * {@code threads == 1}.
     *
     * @param env      the caller's ONNX Runtime environment, used for building, training and scoring
     * @param progress where each step and each training epoch reports, as {@code [step/4] what: epoch e/n ...}
     */
    public static Report make(OrtEnvironment env, Path target, long seed, int threads, PrintStream progress) {
        Path work = workFolder(target);
        try {
            // 1. Pretrain everything on shape-and-polarity; no target-style image is involved.
            Path pretrainedModel = pretrain(env, work, seed, threads, progress);

            // 2. A fresh six-class head, fit on the source style only.
            ModelProto withHead = ShapeClassifier.withNewHead(Onnx.read(pretrainedModel), ShapeImages.CLASSES.size(), seed + 1);
            ArtifactSet headFit = buildHeadOnly(env, withHead, work.resolve("head"), List.of(), null);
            Path fitted = work.resolve("head.ckpt");
            double loss = ShapeTraining.train(env, headFit, headFit.checkpoint(), fitted,
                    ShapeImages.generate(Domain.SOURCE, SOURCE_HEAD_SAMPLES, seed * 7919 + 4000),
                    new ShapeTraining.Settings(SOURCE_HEAD_EPOCHS, BATCH_SIZE, (float) HEAD_LEARNING_RATE, seed + 1, threads),
                    epochs(progress, 2, "fitting the head on the source style", SOURCE_HEAD_EPOCHS));
            Path shippedModel = work.resolve("shipped.onnx");
            headFit.exportInference(env, fitted, shippedModel);
            progress.printf(Locale.ROOT, "[2/%d] fit the head on the source style (last epoch loss %.3f)%n", STEPS, loss);

            // 3. The shipped artifact set: only the head trains.
            createDirectories(target);
            ArtifactSet shipped = buildHeadOnly(env, Onnx.read(shippedModel), target, ShapeImages.CLASSES,
                    DESCRIPTION + seed);
            ReferenceSetFile.write(target, seed);
            progress.printf(Locale.ROOT, "[3/%d] wrote %s%n", STEPS, target);

            // 4. Measure, as the service would train it.
            progress.printf(Locale.ROOT, "[4/%d] measuring: head training on %d target samples%n", STEPS, LIFT_SAMPLES);
            return measure(env, shipped, work, seed, threads);
        } finally {
            deleteTree(work);
        }
    }

    private static Path pretrain(OrtEnvironment env, Path work, long seed, int threads, PrintStream progress) {
        ModelProto initial = ShapeClassifier.create(PRETRAINING_CLASSES, seed);
        ArtifactSet pretraining = ArtifactBuilder.fromModel(initial).allTrainable().build(env, work.resolve("pretraining"));
        Path pretrained = work.resolve("pretrained.ckpt");
        double loss = ShapeTraining.train(env, pretraining, pretraining.checkpoint(), pretrained, pretrainingData(seed),
                new ShapeTraining.Settings(PRETRAINING_EPOCHS, BATCH_SIZE, PRETRAINING_LEARNING_RATE, seed, threads),
                epochs(progress, 1, "pretraining the backbone", PRETRAINING_EPOCHS));
        Path pretrainedModel = work.resolve("pretrained.onnx");
        pretraining.exportInference(env, pretrained, pretrainedModel);
        progress.printf(Locale.ROOT, "[1/%d] pretrained the backbone (%d classes, last epoch loss %.3f)%n",
                STEPS, PRETRAINING_CLASSES, loss);
        return pretrainedModel;
    }

    private static ShapeTraining.EpochListener epochs(PrintStream progress, int step, String what, int total) {
        return (epoch, loss) -> progress.printf(Locale.ROOT, "[%d/%d] %s: epoch %d/%d, mean loss %.3f%n",
                step, STEPS, what, epoch, total, loss);
    }

    /** An artifact set of {@code model} in which only the {@link ShapeClassifier#HEAD_PARAMETERS} train. */
    static ArtifactSet buildHeadOnly(OrtEnvironment env, ModelProto model, Path dir, List<String> classNames,
            String description) {
        ArtifactBuilder builder = ArtifactBuilder.fromModel(model).trainable(ShapeClassifier.HEAD_PARAMETERS)
                .learningRateHint(HEAD_LEARNING_RATE);
        if (!classNames.isEmpty()) {
            builder.classNames(classNames);
        }
        if (description != null) {
            builder.description(description);
        }
        return builder.build(env, dir);
    }

    /** Deletes a working folder and everything in it. */
    static void deleteTree(Path dir) {
        try {
            Durable.deleteTree(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String percent(double share) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }

    /** Scores {@code set} on both styles, trains its head on target samples, and scores again. */
    public static Report measure(OrtEnvironment env, ArtifactSet set, Path work, long seed, int threads) {
        Batch source = heldOut(Domain.SOURCE, seed);
        Batch target = heldOut(Domain.TARGET, seed);
        Path before = work.resolve("measure-before.onnx");
        set.exportInference(env, set.checkpoint(), before);
        Path trained = work.resolve("measure-trained.ckpt");
        ShapeTraining.train(env, set, set.checkpoint(), trained, targetSamples(LIFT_SAMPLES, seed),
                new ShapeTraining.Settings(LIFT_EPOCHS, BATCH_SIZE, (float) HEAD_LEARNING_RATE, seed + 2, threads));
        Path after = work.resolve("measure-after.onnx");
        set.exportInference(env, trained, after);
        return new Report(seed,
                ShapeTraining.accuracy(env, before, source, threads),
                ShapeTraining.accuracy(env, before, target, threads),
                ShapeTraining.accuracy(env, after, target, threads),
                ShapeTraining.accuracy(env, after, source, threads),
                size(set.dir()));
    }

    private static Path workFolder(Path target) {
        try {
            Path parent = target.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            return Files.createTempDirectory(parent, ".make-default-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a working folder next to " + target + ": " + e.getMessage(), e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    private static long size(Path dir) {
        try (var files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.microkernel.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.LossKind;
import io.microkernel.runtime.NativeLibrary;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.runtime.OrtSessions;
import io.microkernel.store.Durable;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.TensorSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code selfcheck} does, step by step: load ONNX Runtime, open an artifact set, train one step,
 * export the trained model, run it, and print each result. A platform where any of these fails (a
 * native library for another CPU, a JNI library that does not match, training missing) fails here,
 * with the step that broke, rather than in the server.
 *
 * <p>Inputs are made from the set's own description: {@value #BATCH} rows of fixed values per input,
 * labels {@code 0, 1, ...} for a classifier and zeros for a regression target.
 */
final class SelfCheck {

    static final int BATCH = 2;

    private final PrintStream out;

    SelfCheck(PrintStream out) {
        this.out = out;
    }

    /** Runs every step on the set in {@code dir}; throws, naming the step, at the first failure. */
    void run(Path dir) throws OrtException, IOException {
        long start = System.nanoTime();
        out.println(Cli.NAME + " " + Versions.applicationVersion());
        out.printf(Locale.ROOT, "java %s (%s) on %s %s%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), System.getProperty("os.name"), System.getProperty("os.arch"));
        OrtRuntime runtime = OrtRuntime.start(Optional.empty());
        OrtEnvironment env = runtime.environment();
        out.printf(Locale.ROOT, "ONNX Runtime Java API %s, native %s, training %s, providers %s%n",
                OrtRuntime.expectedVersion(), env.getVersion(), env.isTrainingEnabled() ? "enabled" : "missing",
                runtime.providers());
        out.printf(Locale.ROOT, "native library %s (%s)%n", runtime.library(),
                NativeLibrary.reusedExtraction() ? "kept from an earlier start" : "extracted now");
        ArtifactSet set = ArtifactSet.open(dir);
        ArtifactDescription description = set.description();
        out.printf(Locale.ROOT, "artifact set %s: %d input(s), loss %s, inference output '%s'%n", dir,
                description.inputs().size(), description.loss().name().toLowerCase(Locale.ROOT),
                description.inferenceOutput());
        Path work = Files.createTempDirectory("microkernel-selfcheck-");
        try {
            Path exported = trainAndExport(env, set, work.resolve("inference.onnx"));
            infer(env, description, exported);
        } finally {
            Durable.deleteTree(work);
        }
        out.printf(Locale.ROOT, "selfcheck passed in %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }

    private Path trainAndExport(OrtEnvironment env, ArtifactSet set, Path target) throws OrtException {
        ArtifactDescription description = set.description();
        try (OrtSession.SessionOptions options = OrtSessions.options(1, 1);
                OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
            List<TensorSpec> specs = new ArrayList<>(description.inputs());
            specs.add(description.label());
            List<String> names = session.getTrainInputNames().stream().toList();
            List<OnnxTensor> tensors = new ArrayList<>();
            try {
                Map<String, OnnxTensor> feed = new LinkedHashMap<>();
                for (String name : names) {
                    TensorSpec spec = specs.stream().filter(s -> s.name().equals(name)).findFirst()
                            .orElseThrow(() -> new IllegalStateException("train step: the training graph asks for input '"
                                    + name + "', which the artifact description does not know"));
                    OnnxTensor tensor = spec == description.label() ? labels(env, description) : filled(env, spec);
                    tensors.add(tensor);
                    feed.put(name, tensor);
                }
                double loss;
                try (OrtSession.Result result = session.trainStep(feed)) {
                    loss = OrtSessions.scalar(result.get(0), "training graph");
                }
                session.optimizerStep();
                session.lazyResetGrad();
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("train step: expected a finite loss, found " + loss);
                }
                out.printf(Locale.ROOT, "train step: loss %.4f, optimizer step done%n", loss);
            } finally {
                tensors.forEach(OnnxTensor::close);
            }
            session.exportModelForInference(target.toAbsolutePath(), new String[] {description.inferenceOutput()});
        }
        out.printf(Locale.ROOT, "export: %s, %d bytes%n", target.getFileName(), target.toFile().length());
        return target;
    }

    private void infer(OrtEnvironment env, ArtifactDescription description, Path model) throws OrtException {
        try (OrtSession.SessionOptions options = OrtSessions.options(1, 1);
                OrtSession session = env.createSession(model.toString(), options)) {
            List<OnnxTensor> tensors = new ArrayList<>();
            try {
                Map<String, OnnxTensor> feed = new LinkedHashMap<>();
                for (TensorSpec spec : description.inputs()) {
                    OnnxTensor tensor = filled(env, spec);
                    tensors.add(tensor);
                    feed.put(spec.name(), tensor);
                }
                try (OrtSession.Result result = session.run(feed)) {
                    OnnxValue output = result.get(0);
                    float[] values = floats(output);
                    for (float v : values) {
                        if (!Float.isFinite(v)) {
                            throw new IllegalStateException("inference: expected finite outputs, found " + v);
                        }
                    }
                    out.printf(Locale.ROOT, "inference: output '%s' %s, %d finite values%n",
                            result.iterator().next().getKey(), output.getInfo(), values.length);
                }
            } finally {
                tensors.forEach(OnnxTensor::close);
            }
        }
    }

    /** {@value #BATCH} rows of fixed, varied values in {@code [0, 1)} shaped as {@code spec} says. */
    private static OnnxTensor filled(OrtEnvironment env, TensorSpec spec) throws OrtException {
        if (spec.dtype() != DType.FLOAT) {
            throw new IllegalStateException("selfcheck: input '" + spec.name() + "' expected FLOAT, found " + spec.dtype()
                    + "; selfcheck fills float inputs only");
        }
        long[] shape = concrete(spec);
        float[] values = new float[Math.toIntExact(count(shape))];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i * 37 % 101) / 101f;
        }
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
    }

    /** Class indices {@code 0, 1, ...} for cross-entropy, zeros shaped like the label for MSE. */
    private static OnnxTensor labels(OrtEnvironment env, ArtifactDescription description) throws OrtException {
        long[] shape = concrete(description.label());
        if (description.loss() == LossKind.CROSS_ENTROPY) {
            long[] labels = new long[Math.toIntExact(count(shape))];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = i % Math.max(1, description.numClasses());
            }
            return OnnxTensor.createTensor(env, LongBuffer.wrap(labels), shape);
        }
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[Math.toIntExact(count(shape))]), shape);
    }

    private static long[] concrete(TensorSpec spec) {
        return spec.shape().stream().mapToLong(d -> d < 0 ? BATCH : d).toArray();
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static float[] floats(OnnxValue value) throws OrtException {
        if (!(value instanceof OnnxTensor tensor) || tensor.getInfo().type != ai.onnxruntime.OnnxJavaType.FLOAT) {
            throw new IllegalStateException("inference: expected a float tensor output, found " + value.getInfo());
        }
        FloatBuffer buffer = tensor.getFloatBuffer();
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        return values;
    }
}

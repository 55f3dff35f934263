package io.microkernel.training;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.artifacts.FrozenFrontier;
import io.microkernel.artifacts.Onnx;
import io.microkernel.artifacts.ParameterSpec;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.runtime.OrtSessions;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.training.features.FeatureCache;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A round's view of its model cut at the frozen frontier ({@link FrozenFrontier}): a session over the
 * frozen part that computes each sample's features once, the {@link FeatureCache} that keeps them,
 * and the cut training and eval graphs the round trains on instead of the full ones.
 *
 * <p>{@link #prepare} checks on real samples that the frozen part computes every sample on its own
 * (an operator that mixes the batch, such as attention across it, would make cached features wrong)
 * and falls back, with the reason, whenever the set cannot be cut.
 *
 * <p>Not thread-safe: one round uses it on its own thread. It owns its frozen session; close it.
 */
final class FrozenFeatures implements AutoCloseable {

    /** Largest relative difference between a sample's features computed alone and within a batch. */
    static final double BATCH_INDEPENDENCE_TOLERANCE = 1e-4;

    /** What {@link #prepare} concluded. */
    sealed interface Setup permits Ready, Fallback {
    }

    /** The round trains on the cut graphs with cached features. */
    record Ready(FrozenFeatures features) implements Setup {
    }

    /** The round trains on the full graphs, because of {@code reason}. */
    record Fallback(String reason) implements Setup {
    }

    private final OrtEnvironment env;
    private final ArtifactSet artifacts;
    private final FrozenFrontier.Cut cut;
    private final OrtSession frozen;
    private final String hash;
    private final FeatureCache cache;
    private final Path cutTraining;
    private final Path cutEval;
    private final Map<Long, FeatureCache.Key> keys = new HashMap<>();
    private long hits;
    private long misses;

    private FrozenFeatures(OrtEnvironment env, ArtifactSet artifacts, FrozenFrontier.Cut cut, OrtSession frozen,
            String hash, FeatureCache cache, Path cutTraining, Path cutEval) {
        this.env = env;
        this.artifacts = artifacts;
        this.cut = cut;
        this.frozen = frozen;
        this.hash = hash;
        this.cache = cache;
        this.cutTraining = cutTraining;
        this.cutEval = cutEval;
    }

    /**
     * Cuts the set at its frozen frontier and opens the frozen part for {@code checkpoint}.
     *
     * @param probe samples to check the frozen part on (the first two are used; fewer than two fall back)
     */
    static Setup prepare(OrtEnvironment env, ArtifactSet artifacts, Path checkpoint, Path workDir, int threads,
            List<Sample> probe, FeatureCache cache) throws OrtException {
        if (probe.size() < 2) {
            // One sample cannot tell a per-sample tensor from one that follows the batch (a Shape, a batch mean).
            return new Fallback("expected at least two training samples in a minibatch to check the frozen part on,"
                    + " found " + probe.size());
        }
        Checkpoint state = Checkpoint.read(checkpoint);
        FrozenFrontier.Result found = FrozenFrontier.find(Onnx.read(artifacts.trainingModel()),
                Onnx.read(artifacts.evalModel()),
                artifacts.description().inputs().stream().map(TensorSpec::name).toList(),
                artifacts.description().trainable().stream().map(ParameterSpec::name).toList(),
                state.frozen().stream().map(CheckpointTensor::name).toList());
        if (found instanceof FrozenFrontier.Uncut uncut) {
            return new Fallback(uncut.reason());
        }
        FrozenFrontier.Cut cut = (FrozenFrontier.Cut) found;
        byte[] part = cut.frozenPart(state).toByteArray();
        String hash = sha256(part);
        OrtSession session;
        try (OrtSession.SessionOptions options = OrtSessions.options(threads, 1)) {
            session = env.createSession(part, options);
        } catch (OrtException e) {
            return new Fallback("ONNX Runtime cannot run the frozen part: " + firstLine(e));
        }
        try {
            Map<String, ValueInfoProto> info = new HashMap<>();
            String problem = probe(env, session, cut, probe.subList(0, Math.min(2, probe.size())), info);
            if (problem != null) {
                session.close();
                return new Fallback(problem);
            }
            Path training = workDir.resolve("cut-" + ArtifactSet.TRAINING_MODEL);
            Path eval = workDir.resolve("cut-" + ArtifactSet.EVAL_MODEL);
            Onnx.write(cut.cutTraining(info), training);
            Onnx.write(cut.cutEval(info), eval);
            cache.useFrozenPart(hash);
            return new Ready(new FrozenFeatures(env, artifacts, cut, session, hash, cache, training, eval));
        } catch (OrtException | RuntimeException e) {
            session.close();
            throw e;
        }
    }

    /**
     * Runs the frozen part on the probe samples together and on the first alone: every computed
     * tensor must be one row per sample, and the first sample's row the same either way. Fills
     * {@code info} with each feature's type, the batch dimension left symbolic.
     *
     * @return why the features cannot be cached per sample, or null when they can
     */
    private static String probe(OrtEnvironment env, OrtSession session, FrozenFrontier.Cut cut, List<Sample> probe,
            Map<String, ValueInfoProto> info) throws OrtException {
        Map<String, Tensor> together = run(env, session, cut.computed(), probe);
        Map<String, Tensor> alone = run(env, session, cut.computed(), probe.subList(0, 1));
        for (String name : cut.computed()) {
            Tensor all = together.get(name);
            if (all.rank() == 0 || all.dim(0) != probe.size() || alone.get(name).dim(0) != 1) {
                return "frozen tensor '" + name + "' is not one row per sample: expected a first dimension of "
                        + probe.size() + ", found shape " + java.util.Arrays.toString(all.shape());
            }
            if (!close(all.row(0), alone.get(name).row(0))) {
                return "the frozen part mixes samples of a batch: '" + name
                        + "' of a sample differs when computed alone and within a batch";
            }
            info.put(name, featureInfo(name, all.row(0)));
        }
        for (String name : cut.rawInputs()) {
            info.put(name, featureInfo(name, probe.get(0).inputs().get(name)));
        }
        return null;
    }

    private static ValueInfoProto featureInfo(String name, Tensor row) {
        long[] dims = new long[row.rank() + 1];
        dims[0] = -1;
        System.arraycopy(row.shape(), 0, dims, 1, row.rank());
        return Onnx.valueInfo(name, row.dtype().onnxCode(), dims);
    }

    private static boolean close(Tensor a, Tensor b) {
        if (a.elementCount() != b.elementCount()) {
            return false;
        }
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < a.elementCount(); i++) {
            scale = Math.max(scale, Math.abs(a.getDouble(i)));
            diff = Math.max(diff, Math.abs(a.getDouble(i) - b.getDouble(i)));
        }
        return diff <= BATCH_INDEPENDENCE_TOLERANCE * Math.max(1e-6, scale);
    }

    /** Runs the frozen part on {@code samples} and copies the named outputs out of native memory. */
    private static Map<String, Tensor> run(OrtEnvironment env, OrtSession session, List<String> outputs,
            List<Sample> samples) throws OrtException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (TensorBatch inputs = TensorBatch.of(env, session.getInputNames(), null, samples);
                OrtSession.Result result = session.run(inputs.inputs(), new HashSet<>(outputs))) {
            for (String name : outputs) {
                OnnxValue value = result.get(name).orElseThrow(() -> new IllegalStateException(
                        "the frozen part did not return '" + name + "'"));
                out.put(name, Tensor.copyOf((OnnxTensor) value));
            }
        }
        return out;
    }

    /** Opens a training session over the cut graphs and {@code checkpoint}. The caller closes it. */
    OrtTrainingSession openTrainingSession(Path checkpoint, OrtSession.SessionOptions options) throws OrtException {
        return env.createTrainingSession(checkpoint.toAbsolutePath().toString(), cutTraining.toString(),
                cutEval.toString(), artifacts.optimizerModel().toString(), options);
    }

    /**
     * The samples as the cut graphs take them: the same ids and labels, the frontier tensors as
     * inputs. Cached features are reused; the rest are computed in one run of the frozen part.
     */
    List<Sample> featured(List<Sample> samples) throws OrtException {
        List<Map<String, Tensor>> found = new ArrayList<>(samples.size());
        List<Sample> missing = new ArrayList<>();
        for (Sample sample : samples) {
            Map<String, Tensor> features = cache.get(hash, key(sample)).orElse(null);
            found.add(features);
            if (features == null) {
                missing.add(sample);
            }
        }
        hits += samples.size() - missing.size();
        misses += missing.size();
        Map<Long, Map<String, Tensor>> computed = compute(missing);
        List<Sample> out = new ArrayList<>(samples.size());
        for (int i = 0; i < samples.size(); i++) {
            Sample s = samples.get(i);
            Map<String, Tensor> features = found.get(i) != null ? found.get(i) : computed.get(s.id());
            out.add(new Sample(s.id(), s.receivedAtMillis(), features, s.label()));
        }
        return out;
    }

    private Map<Long, Map<String, Tensor>> compute(List<Sample> missing) throws OrtException {
        Map<Long, Map<String, Tensor>> computed = new HashMap<>();
        if (missing.isEmpty()) {
            return computed;
        }
        Map<String, Tensor> batch = run(env, frozen, cut.computed(), missing);
        for (int i = 0; i < missing.size(); i++) {
            Sample sample = missing.get(i);
            Map<String, Tensor> features = new LinkedHashMap<>();
            for (String name : cut.features()) {
                features.put(name, cut.rawInputs().contains(name) ? sample.inputs().get(name) : batch.get(name).row(i));
            }
            cache.put(hash, key(sample), features);
            computed.put(sample.id(), features);
        }
        return computed;
    }

    private FeatureCache.Key key(Sample sample) {
        return keys.computeIfAbsent(sample.id(), id -> new FeatureCache.Key(id, fingerprint(sample)));
    }

    /** A CRC32C of the sample's input names and bytes, so an id reused for other data misses. */
    private static long fingerprint(Sample sample) {
        CRC32C crc = new CRC32C();
        long length = 0;
        for (Map.Entry<String, Tensor> e : sample.inputs().entrySet()) {
            crc.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.nio.ByteBuffer bytes = e.getValue().bytes();
            length += bytes.remaining();
            crc.update(bytes);
        }
        return (length << 32) ^ crc.getValue();
    }

    /** Samples found in the cache so far. */
    long hits() {
        return hits;
    }

    /** Samples whose features had to be computed so far. */
    long misses() {
        return misses;
    }

    /** The hash of the frozen part (its graph and frozen parameter values) the features are kept under. */
    String frozenHash() {
        return hash;
    }

    /** The frontier tensors. */
    List<String> features() {
        return cut.features();
    }

    @Override
    public void close() {
        try {
            frozen.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the frozen part's session: " + e.getMessage(), e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m).strip();
    }
}

package io.microkernel.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtException.OrtErrorCode;
import ai.onnxruntime.OrtSession;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Scores;
import io.microkernel.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One model version loaded into an ONNX Runtime session, with its signature, shared by every
 * request that runs on it and closed only when the last of them is done.
 *
 * <p>Reference counted: the creator holds the first reference; {@link #tryAcquire()} adds one
 * unless the model is already closed, {@link #release()} drops one and closes the session and its
 * options when the count reaches zero. A session is therefore never closed while a thread is
 * inside {@link #run} (closing a session mid-run crashes the JVM).
 *
 * <p>Thread-safe: {@link #run} may be called from many threads at once, as ORT sessions allow.
 */
public final class LoadedModel {

    private final ModelVersion version;
    private final ModelSignature signature;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;
    private final AtomicInteger references = new AtomicInteger(1);
    private final boolean batchable;
    /** Where the outputs of a run are copied to; their owner (the caller of a run) may recycle them. */
    private final BufferPool outputBuffers;
    private volatile long typicalRowNanos;

    LoadedModel(ModelVersion version, ModelSignature signature, OrtEnvironment env, OrtSession session,
            OrtSession.SessionOptions options, BufferPool outputBuffers) {
        this.outputBuffers = outputBuffers;
        this.version = version;
        this.signature = signature;
        this.env = env;
        this.session = session;
        this.options = options;
        this.batchable = java.util.stream.Stream.concat(signature.inputs().stream(), signature.outputs().stream())
                .allMatch(spec -> !spec.shape().isEmpty() && spec.shape().get(0) < 0);
    }

    public int version() {
        return version.version();
    }

    public ModelVersion modelVersion() {
        return version;
    }

    public ModelSignature signature() {
        return signature;
    }

    /** Adds a reference unless the model is already closed; pair every success with {@link #release()}. */
    boolean tryAcquire() {
        while (true) {
            int count = references.get();
            if (count == 0) {
                return false;
            }
            if (references.compareAndSet(count, count + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one closes the session and makes this return true. */
    boolean release() {
        int left = references.decrementAndGet();
        if (left == 0) {
            closeNative();
            return true;
        } else if (left < 0) {
            throw new IllegalStateException("version " + version() + " released more often than acquired");
        }
        return false;
    }

    boolean isClosed() {
        return references.get() == 0;
    }

    /**
     * Runs the model on validated inputs. The caller holds a reference for the whole call.
     *
     * @throws InputValidationException when ORT rejects the input as invalid
     * @throws InferenceFailedException when ORT fails for another reason
     */
    public Prediction run(List<NamedTensor> inputs) {
        long start = System.nanoTime();
        try (Tensors tensors = Tensors.create(env, inputs);
                OrtSession.Result result = session.run(tensors.byName())) {
            observeRun(System.nanoTime() - start, inputs);
            List<NamedTensor> outputs = new ArrayList<>(signature.outputs().size());
            for (Map.Entry<String, OnnxValue> entry : result) {
                outputs.add(copyOut(entry.getKey(), entry.getValue()));
            }
            return new Prediction(version(), outputs, classify(outputs));
        } catch (OrtException e) {
            throw failure(e);
        }
    }

    /**
     * Whether every input and output has a dynamic first dimension, so rows of several requests
     * can be joined into one run and its outputs split back by row.
     */
    boolean batchable() {
        return batchable;
    }

    /**
     * Runs the inputs of several requests as one batch: each input is joined along its first
     * dimension in request order, and every output is split back, so each request gets exactly its
     * own rows. The caller holds a reference for the whole call.
     *
     * @param requests each request's inputs in model input order, with equal row shapes across requests
     * @param rows     each request's batch size
     * @throws InferenceFailedException when an output does not have one row per input row, or ORT fails
     * @throws InputValidationException when ORT rejects the joined input
     */
    List<Prediction> runJoined(List<List<NamedTensor>> requests, int[] rows) {
        int total = java.util.Arrays.stream(rows).sum();
        List<NamedTensor> joined = new ArrayList<>(signature.inputs().size());
        for (int i = 0; i < requests.get(0).size(); i++) {
            int input = i;
            joined.add(new NamedTensor(requests.get(0).get(i).name(),
                    Tensor.concat(requests.stream().map(r -> r.get(input).tensor()).toList())));
        }
        long start = System.nanoTime();
        try (Tensors tensors = Tensors.create(env, joined);
                OrtSession.Result result = session.run(tensors.byName())) {
            observeRun(System.nanoTime() - start, joined);
            List<List<NamedTensor>> split = new ArrayList<>(requests.size());
            requests.forEach(r -> split.add(new ArrayList<>(signature.outputs().size())));
            for (Map.Entry<String, OnnxValue> entry : result) {
                Tensor whole = copyOut(entry.getKey(), entry.getValue()).tensor();
                if (whole.rank() == 0 || whole.dim(0) != total) {
                    throw new InferenceFailedException("output '" + entry.getKey() + "': expected " + total
                            + " rows, one per input row, found shape " + java.util.Arrays.toString(whole.shape()), null);
                }
                int from = 0;
                for (int r = 0; r < requests.size(); r++) {
                    split.get(r).add(new NamedTensor(entry.getKey(), whole.rows(from, from + rows[r])));
                    from += rows[r];
                }
                // Each request got a copy of its rows; nothing reads the joined output any more.
                whole.recycle();
            }
            return split.stream().map(outputs -> new Prediction(version(), outputs, classify(outputs))).toList();
        } catch (OrtException e) {
            throw failure(e);
        }
    }

    /**
     * What one row of a run has typically cost lately (a moving average over runs), in nanoseconds;
     * 0 before the first run. Callers use it to tell a short run from a long one before they run.
     */
    public long typicalRowNanos() {
        return typicalRowNanos;
    }

    private void observeRun(long nanos, List<NamedTensor> inputs) {
        int rows = inputs.isEmpty() || inputs.get(0).tensor().rank() == 0 ? 1 : Math.max(1, inputs.get(0).tensor().batchSize());
        long perRow = nanos / rows;
        long before = typicalRowNanos;
        // Racy on purpose: a lost update among concurrent runs only delays the average by one sample.
        typicalRowNanos = before == 0 ? perRow : before + (perRow - before) / 8;
    }

    private RuntimeException failure(OrtException e) {
        if (e.getCode() == OrtErrorCode.ORT_INVALID_ARGUMENT) {
            return new InputValidationException(InputProblem.REJECTED_BY_MODEL,
                    "expected an input the model accepts, found one it rejects: " + e.getMessage());
        }
        return new InferenceFailedException("version " + version() + " failed to run: " + e.getMessage(), e);
    }

    private List<Classification> classify(List<NamedTensor> outputs) {
        if (signature.scoresOutput().isEmpty()) {
            return List.of();
        }
        Tensor scores = outputs.stream().filter(o -> o.name().equals(signature.scoresOutput().get()))
                .map(NamedTensor::tensor).findFirst().orElse(null);
        List<String> names = signature.classNames();
        if (scores == null || scores.rank() != 2 || scores.dim(1) != names.size()) {
            return List.of();
        }
        int rows = scores.batchSize();
        List<Classification> classes = new ArrayList<>(rows);
        for (int row = 0; row < rows; row++) {
            double[] values = scores.rowAsDoubles(row);
            // A diverged model's NaN scores name no class; answer with the first rather than fail the request.
            int best = Math.max(0, Scores.argmax(values));
            classes.add(new Classification(best, names.get(best), values));
        }
        return classes;
    }

    private NamedTensor copyOut(String name, OnnxValue value) {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new InferenceFailedException("output '" + name + "': expected a tensor, found " + value.getType(), null);
        }
        try {
            return new NamedTensor(name, Tensor.copyOf(tensor, outputBuffers));
        } catch (IllegalArgumentException e) {
            throw new InferenceFailedException("output '" + name + "': " + e.getMessage(), null);
        }
    }

    private void closeNative() {
        try {
            session.close();
        } catch (OrtException e) {
            // Nothing can use the session any more; a failed close only leaks native memory.
            org.jboss.logging.Logger.getLogger(LoadedModel.class)
                    .warnf("closing the session of version %d failed: %s", version(), e.getMessage());
        } finally {
            options.close();
        }
    }

    @Override
    public String toString() {
        return "LoadedModel[version " + version() + ", references " + references.get() + "]";
    }

    /** The native tensors of one run, closed together. */
    static final class Tensors implements AutoCloseable {
        private final Map<String, OnnxTensor> byName = new LinkedHashMap<>();

        static Tensors create(OrtEnvironment env, List<NamedTensor> inputs) throws OrtException {
            Tensors tensors = new Tensors();
            try {
                for (NamedTensor input : inputs) {
                    tensors.byName.put(input.name(), input.tensor().toOnnx(env));
                }
                return tensors;
            } catch (OrtException | RuntimeException e) {
                tensors.close();
                throw e;
            }
        }

        Map<String, OnnxTensor> byName() {
            return byName;
        }

        @Override
        public void close() {
            byName.values().forEach(OnnxTensor::close);
        }
    }
}

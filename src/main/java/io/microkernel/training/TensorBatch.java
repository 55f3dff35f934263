package io.microkernel.training;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors of one minibatch, stacked from samples into one direct buffer per input and handed
 * to ORT without another copy, in the exact order a training or inference call needs them (ORT
 * hands a training step its inputs by position, not by name).
 *
 * <p>Owns its tensors: closing the batch closes every one of them. Not thread-safe; use it on the
 * thread that built it, inside one try-with-resources.
 */
final class TensorBatch implements AutoCloseable {

    private final LinkedHashMap<String, OnnxTensor> tensors = new LinkedHashMap<>();

    private TensorBatch() {
    }

    /**
     * Builds the named tensors for {@code samples}, in the order of {@code names}. A name is either a
     * user input (taken from each sample's inputs) or the label input (taken from the labels).
     *
     * @throws IllegalStateException when a name is neither, or a sample lacks an input
     */
    static TensorBatch of(OrtEnvironment env, Collection<String> names, TensorSpec label, List<Sample> samples)
            throws OrtException {
        TensorBatch batch = new TensorBatch();
        try {
            for (String name : names) {
                Tensor tensor = label != null && name.equals(label.name())
                        ? labels(label, samples)
                        : stackInput(name, samples);
                batch.tensors.put(name, tensor.toOnnx(env));
            }
            return batch;
        } catch (OrtException | RuntimeException e) {
            batch.close();
            throw e;
        }
    }

    /** The tensors in call order; valid until {@link #close()}. */
    Map<String, OnnxTensor> inputs() {
        return Collections.unmodifiableMap(tensors);
    }

    @Override
    public void close() {
        List<OnnxTensor> open = new ArrayList<>(tensors.values());
        tensors.clear();
        open.forEach(OnnxTensor::close);
    }

    private static Tensor stackInput(String name, List<Sample> samples) {
        List<Tensor> rows = new ArrayList<>(samples.size());
        Tensor first = samples.get(0).inputs().get(name);
        if (first == null) {
            throw new IllegalStateException("the graph needs input '" + name + "' but sample " + samples.get(0).id()
                    + " has only " + samples.get(0).inputs().keySet());
        }
        for (Sample sample : samples) {
            Tensor t = sample.inputs().get(name);
            if (t == null || t.dtype() != first.dtype() || !Arrays.equals(t.shape(), first.shape())) {
                throw new IllegalStateException("sample " + sample.id() + " input '" + name + "': expected " + first
                        + " like the rest of the batch, found " + t);
            }
            rows.add(t);
        }
        return Tensor.stack(rows);
    }

    private static Tensor labels(TensorSpec spec, List<Sample> samples) {
        if (samples.get(0).label() instanceof SampleLabel.Target first) {
            if (!spec.dtype().isFloatingPoint()) {
                throw new IllegalStateException("label '" + spec.name() + "': expected a float target type, found "
                        + spec.dtype());
            }
            int per = first.values().length;
            Tensor.Builder out = Tensor.builder(spec.dtype(), Shapes.withBatch(samples.size(), first.shape()));
            for (Sample sample : samples) {
                if (!(sample.label() instanceof SampleLabel.Target t) || t.values().length != per) {
                    throw new IllegalStateException("sample " + sample.id() + ": expected a target of " + per
                            + " values like the rest of the batch, found " + sample.label());
                }
                for (float v : t.values()) {
                    out.addDouble(v);
                }
            }
            return out.build();
        }
        if (spec.dtype() != DType.INT64 && spec.dtype() != DType.INT32) {
            throw new IllegalStateException("label '" + spec.name() + "': expected an integer class label type, found "
                    + spec.dtype());
        }
        // Class labels are [batch] or [batch, 1, ...]: every dimension after the batch is 1.
        long[] shape = new long[Math.max(1, spec.shape().size())];
        Arrays.fill(shape, 1);
        shape[0] = samples.size();
        Tensor.Builder out = Tensor.builder(spec.dtype(), shape);
        for (Sample sample : samples) {
            if (!(sample.label() instanceof SampleLabel.ClassIndex c)) {
                throw new IllegalStateException("sample " + sample.id() + ": expected a class index, found " + sample.label());
            }
            out.addLong(c.index());
        }
        return out.build();
    }
}

package io.microkernel.training;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors of one minibatch, stacked from samples, in the exact order a training or inference
 * call needs them (ORT hands a training step its inputs by position, not by name).
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
                OnnxTensor tensor = label != null && name.equals(label.name())
                        ? labels(env, label, samples)
                        : stackInput(env, name, samples);
                batch.tensors.put(name, tensor);
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

    private static OnnxTensor stackInput(OrtEnvironment env, String name, List<Sample> samples) throws OrtException {
        SampleTensor first = samples.get(0).inputs().get(name);
        if (first == null) {
            throw new IllegalStateException("the graph needs input '" + name + "' but sample " + samples.get(0).id()
                    + " has only " + samples.get(0).inputs().keySet());
        }
        DType dtype = first.dtype();
        long[] instanceShape = first.shape();
        int per = first.elementCount();
        ByteBuffer buffer = ByteBuffer.allocateDirect(SampleTensor.elementBytes(dtype) * per * samples.size())
                .order(ByteOrder.nativeOrder());
        for (Sample sample : samples) {
            SampleTensor t = sample.inputs().get(name);
            if (t == null || t.dtype() != dtype || !Arrays.equals(t.shape(), instanceShape)) {
                throw new IllegalStateException("sample " + sample.id() + " input '" + name + "': expected " + dtype
                        + Arrays.toString(instanceShape) + " like the rest of the batch, found " + t);
            }
            t.putElements(buffer);
        }
        buffer.flip();
        long[] shape = new long[instanceShape.length + 1];
        shape[0] = samples.size();
        System.arraycopy(instanceShape, 0, shape, 1, instanceShape.length);
        return create(env, buffer, shape, dtype);
    }

    private static OnnxTensor labels(OrtEnvironment env, TensorSpec spec, List<Sample> samples) throws OrtException {
        int n = samples.size();
        if (samples.get(0).label() instanceof SampleLabel.Target firstTarget) {
            long[] targetShape = firstTarget.shape();
            int per = firstTarget.values().length;
            ByteBuffer buffer = ByteBuffer.allocateDirect(SampleTensor.elementBytes(spec.dtype()) * per * n).order(ByteOrder.nativeOrder());
            for (Sample sample : samples) {
                if (!(sample.label() instanceof SampleLabel.Target t) || t.values().length != per) {
                    throw new IllegalStateException("sample " + sample.id() + ": expected a target of " + per
                            + " values like the rest of the batch, found " + sample.label());
                }
                for (float v : t.values()) {
                    if (spec.dtype() == DType.DOUBLE) {
                        buffer.putDouble(v);
                    } else if (spec.dtype() == DType.FLOAT) {
                        buffer.putFloat(v);
                    } else {
                        throw new IllegalStateException("label '" + spec.name() + "': expected a float target type, found "
                                + spec.dtype());
                    }
                }
            }
            buffer.flip();
            long[] shape = new long[targetShape.length + 1];
            shape[0] = n;
            System.arraycopy(targetShape, 0, shape, 1, targetShape.length);
            return create(env, buffer, shape, spec.dtype());
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(SampleTensor.elementBytes(spec.dtype()) * n).order(ByteOrder.nativeOrder());
        for (Sample sample : samples) {
            if (!(sample.label() instanceof SampleLabel.ClassIndex c)) {
                throw new IllegalStateException("sample " + sample.id() + ": expected a class index, found " + sample.label());
            }
            switch (spec.dtype()) {
                case INT64 -> buffer.putLong(c.index());
                case INT32 -> buffer.putInt(c.index());
                default -> throw new IllegalStateException("label '" + spec.name()
                        + "': expected an integer class label type, found " + spec.dtype());
            }
        }
        buffer.flip();
        // Class labels are [batch] or [batch, 1, ...]: every dimension after the batch is 1.
        long[] shape = new long[Math.max(1, spec.shape().size())];
        Arrays.fill(shape, 1);
        shape[0] = n;
        return create(env, buffer, shape, spec.dtype());
    }

    private static OnnxTensor create(OrtEnvironment env, ByteBuffer buffer, long[] shape, DType dtype)
            throws OrtException {
        return switch (dtype) {
            case FLOAT -> OnnxTensor.createTensor(env, buffer.asFloatBuffer(), shape);
            case DOUBLE -> OnnxTensor.createTensor(env, buffer.asDoubleBuffer(), shape);
            case INT32 -> OnnxTensor.createTensor(env, buffer.asIntBuffer(), shape);
            case INT64 -> OnnxTensor.createTensor(env, buffer.asLongBuffer(), shape);
            case BOOL -> OnnxTensor.createTensor(env, buffer, shape, OnnxJavaType.BOOL);
        };
    }
}

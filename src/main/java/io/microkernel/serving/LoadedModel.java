package io.microkernel.serving;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtException.OrtErrorCode;
import ai.onnxruntime.OrtSession;
import io.microkernel.tensor.DType;
import io.microkernel.store.ModelVersion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
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

    LoadedModel(ModelVersion version, ModelSignature signature, OrtEnvironment env, OrtSession session,
            OrtSession.SessionOptions options) {
        this.version = version;
        this.signature = signature;
        this.env = env;
        this.session = session;
        this.options = options;
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
    public Prediction run(List<InputTensor> inputs) {
        try (Tensors tensors = Tensors.create(env, inputs);
                OrtSession.Result result = session.run(tensors.byName())) {
            List<OutputTensor> outputs = new ArrayList<>(signature.outputs().size());
            for (Map.Entry<String, OnnxValue> entry : result) {
                outputs.add(copyOut(entry.getKey(), entry.getValue()));
            }
            return new Prediction(version(), outputs, classify(outputs));
        } catch (OrtException e) {
            if (e.getCode() == OrtErrorCode.ORT_INVALID_ARGUMENT) {
                throw new InputValidationException(InputProblem.REJECTED_BY_MODEL,
                        "expected an input the model accepts, found one it rejects: " + e.getMessage());
            }
            throw new InferenceFailedException("version " + version() + " failed to run: " + e.getMessage(), e);
        }
    }

    private List<Classification> classify(List<OutputTensor> outputs) {
        if (signature.scoresOutput().isEmpty()) {
            return List.of();
        }
        OutputTensor scores = outputs.stream().filter(o -> o.name().equals(signature.scoresOutput().get()))
                .findFirst().orElse(null);
        List<String> names = signature.classNames();
        if (scores == null || scores.shape().size() != 2 || scores.shape().get(1) != names.size()) {
            return List.of();
        }
        int rows = scores.shape().get(0).intValue();
        List<Classification> classes = new ArrayList<>(rows);
        for (int row = 0; row < rows; row++) {
            double[] values = scores.rowAsDoubles(row);
            int best = 0;
            for (int i = 1; i < values.length; i++) {
                if (values[i] > values[best]) {
                    best = i;
                }
            }
            classes.add(new Classification(best, names.get(best), values));
        }
        return classes;
    }

    private static OutputTensor copyOut(String name, OnnxValue value) {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new InferenceFailedException("output '" + name + "': expected a tensor, found " + value.getType(), null);
        }
        long[] shape = tensor.getInfo().getShape();
        List<Long> shapeList = Arrays.stream(shape).boxed().toList();
        OnnxJavaType type = tensor.getInfo().type;
        DType dtype = DType.fromJavaType(type).orElseThrow(() -> new InferenceFailedException(
                "output '" + name + "': expected FP32, FP64, INT32, INT64 or BOOL, found " + type, null));
        Object data = switch (dtype) {
            case FLOAT -> toArray(tensor.getFloatBuffer());
            case DOUBLE -> toArray(tensor.getDoubleBuffer());
            case INT32 -> toArray(tensor.getIntBuffer());
            case INT64 -> toArray(tensor.getLongBuffer());
            case BOOL -> toBooleans(tensor.getByteBuffer());
        };
        return new OutputTensor(name, dtype, shapeList, data);
    }

    private static float[] toArray(FloatBuffer buffer) {
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static double[] toArray(DoubleBuffer buffer) {
        double[] out = new double[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static int[] toArray(IntBuffer buffer) {
        int[] out = new int[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static long[] toArray(LongBuffer buffer) {
        long[] out = new long[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static boolean[] toBooleans(ByteBuffer buffer) {
        boolean[] out = new boolean[buffer.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = buffer.get() != 0;
        }
        return out;
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

        static Tensors create(OrtEnvironment env, List<InputTensor> inputs) throws OrtException {
            Tensors tensors = new Tensors();
            try {
                for (InputTensor input : inputs) {
                    tensors.byName.put(input.name(), create(env, input));
                }
                return tensors;
            } catch (OrtException | RuntimeException e) {
                tensors.close();
                throw e;
            }
        }

        private static OnnxTensor create(OrtEnvironment env, InputTensor input) throws OrtException {
            long[] shape = input.shape();
            return switch (input.dtype()) {
                case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(input.floats()), shape);
                case DOUBLE -> OnnxTensor.createTensor(env, DoubleBuffer.wrap(input.doubles()), shape);
                case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap(input.ints()), shape);
                case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(input.longs()), shape);
                case BOOL -> {
                    boolean[] values = input.booleans();
                    ByteBuffer bytes = ByteBuffer.allocateDirect(values.length).order(ByteOrder.nativeOrder());
                    for (boolean value : values) {
                        bytes.put((byte) (value ? 1 : 0));
                    }
                    bytes.rewind();
                    yield OnnxTensor.createTensor(env, bytes, shape, OnnxJavaType.BOOL);
                }
            };
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

package io.microkernel.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The same input values for every path being compared: Open Inference Protocol JSON for HTTP,
 * and tensors for the in-process session.
 *
 * <p>Values are drawn from a seeded generator, so a run is repeatable; their distribution does not
 * change the work a dense model does.
 */
final class ModelInputs {

    /** One named input: its shape with the batch filled in and its values, flattened. */
    record Input(String name, OnnxJavaType type, long[] shape, float[] floats, long[] longs) {

        long instanceSize() {
            long size = 1;
            for (int i = 1; i < shape.length; i++) {
                size *= shape[i];
            }
            return size;
        }

        String oipDatatype() {
            return switch (type) {
                case FLOAT -> "FP32";
                case INT64 -> "INT64";
                default -> throw new IllegalArgumentException("the benchmark feeds FLOAT or INT64 inputs, found " + type);
            };
        }
    }

    private final List<Input> inputs;

    private ModelInputs(List<Input> inputs) {
        this.inputs = List.copyOf(inputs);
    }

    /** An input's name, element type and shape as a model declares it ({@code -1} for dynamic). */
    record Spec(String name, OnnxJavaType type, long[] shape) {
    }

    /** The specs of every input a session declares. */
    static List<Spec> specsOf(Map<String, NodeInfo> inputInfo) {
        List<Spec> specs = new ArrayList<>();
        for (NodeInfo node : inputInfo.values()) {
            if (!(node.getInfo() instanceof TensorInfo info)) {
                throw new IllegalArgumentException("input " + node.getName() + " is not a tensor");
            }
            specs.add(new Spec(node.getName(), info.type, info.getShape()));
        }
        return specs;
    }

    /** Inputs with {@code batch} rows for every input the session declares. */
    static ModelInputs forSession(Map<String, NodeInfo> inputInfo, int batch, long seed) {
        return forSpecs(specsOf(inputInfo), batch, seed);
    }

    /** Inputs with {@code batch} rows for the given specs. */
    static ModelInputs forSpecs(List<Spec> specs, int batch, long seed) {
        Random random = new Random(seed);
        List<Input> inputs = new ArrayList<>();
        for (Spec spec : specs) {
            long[] shape = spec.shape().clone();
            shape[0] = batch;
            for (int i = 1; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = 1;
                }
            }
            int size = (int) elements(shape);
            switch (spec.type()) {
                case FLOAT -> {
                    float[] values = new float[size];
                    for (int i = 0; i < size; i++) {
                        values[i] = random.nextFloat();
                    }
                    inputs.add(new Input(spec.name(), OnnxJavaType.FLOAT, shape, values, null));
                }
                case INT64 -> {
                    long[] values = new long[size];
                    for (int i = 0; i < size; i++) {
                        values[i] = random.nextInt(2);
                    }
                    inputs.add(new Input(spec.name(), OnnxJavaType.INT64, shape, null, values));
                }
                default -> throw new IllegalArgumentException("the benchmark feeds FLOAT or INT64 inputs, "
                        + spec.name() + " is " + spec.type());
            }
        }
        return new ModelInputs(inputs);
    }

    List<Input> inputs() {
        return inputs;
    }

    int batch() {
        return (int) inputs.get(0).shape()[0];
    }

    /** A map of fresh tensors in the session's input order; the caller closes every one of them. */
    Map<String, OnnxTensor> createTensors(OrtEnvironment env) throws OrtException {
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Input input : inputs) {
                tensors.put(input.name(), input.type() == OnnxJavaType.FLOAT
                        ? OnnxTensor.createTensor(env, FloatBuffer.wrap(input.floats()), input.shape())
                        : OnnxTensor.createTensor(env, LongBuffer.wrap(input.longs()), input.shape()));
            }
            return tensors;
        } catch (OrtException | RuntimeException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
    }

    /** The body of {@code POST /v2/models/{m}/infer} for these inputs. */
    String oipRequest() {
        StringBuilder json = new StringBuilder("{\"inputs\":[");
        for (int n = 0; n < inputs.size(); n++) {
            Input input = inputs.get(n);
            if (n > 0) {
                json.append(',');
            }
            json.append("{\"name\":\"").append(input.name()).append("\",\"shape\":[");
            for (int i = 0; i < input.shape().length; i++) {
                json.append(i > 0 ? "," : "").append(input.shape()[i]);
            }
            json.append("],\"datatype\":\"").append(input.oipDatatype()).append("\",\"data\":[");
            appendRange(json, input, 0, (int) elements(input.shape()));
            json.append("]}");
        }
        return json.append("]}").toString();
    }

    /** A body of Triton's binary tensor extension: a JSON header of {@code headerLength} bytes, then the tensors. */
    record BinaryBody(int headerLength, byte[] bytes) {
    }

    /**
     * The body tritonclient's HTTP client sends by default for these inputs: each input's values as
     * raw little-endian bytes after a JSON header that gives their {@code binary_data_size}, and
     * {@code binary_data_output} asking for the outputs the same way.
     */
    BinaryBody oipBinaryRequest() {
        StringBuilder json = new StringBuilder("{\"inputs\":[");
        int dataBytes = 0;
        for (int n = 0; n < inputs.size(); n++) {
            Input input = inputs.get(n);
            int size = (int) elements(input.shape()) * (input.type() == OnnxJavaType.FLOAT ? Float.BYTES : Long.BYTES);
            json.append(n > 0 ? "," : "").append("{\"name\":\"").append(input.name()).append("\",\"shape\":[");
            for (int i = 0; i < input.shape().length; i++) {
                json.append(i > 0 ? "," : "").append(input.shape()[i]);
            }
            json.append("],\"datatype\":\"").append(input.oipDatatype())
                    .append("\",\"parameters\":{\"binary_data_size\":").append(size).append("}}");
            dataBytes += size;
        }
        byte[] header = json.append("],\"parameters\":{\"binary_data_output\":true}}").toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer body = java.nio.ByteBuffer.allocate(header.length + dataBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        body.put(header);
        for (Input input : inputs) {
            if (input.type() == OnnxJavaType.FLOAT) {
                for (float v : input.floats()) {
                    body.putFloat(v);
                }
            } else {
                for (long v : input.longs()) {
                    body.putLong(v);
                }
            }
        }
        return new BinaryBody(header.length, body.array());
    }

    /**
     * The body of {@code POST /v1/models/{m}/samples}: each row of these inputs as one sample, in the
     * row format (nested lists without the batch dimension), labelled by {@code labels[row]}.
     */
    String samplesRequest(int[] labels) {
        StringBuilder json = new StringBuilder("{\"samples\":[");
        for (int row = 0; row < batch(); row++) {
            json.append(row > 0 ? "," : "").append('{');
            if (inputs.size() == 1) {
                json.append("\"input\":");
                appendInstance(json, inputs.get(0), row);
            } else {
                json.append("\"inputs\":{");
                for (int n = 0; n < inputs.size(); n++) {
                    json.append(n > 0 ? "," : "").append('"').append(inputs.get(n).name()).append("\":");
                    appendInstance(json, inputs.get(n), row);
                }
                json.append('}');
            }
            json.append(",\"label\":").append(labels[row]).append('}');
        }
        return json.append("]}").toString();
    }

    private static void appendInstance(StringBuilder json, Input input, int row) {
        int size = (int) input.instanceSize();
        appendNested(json, input, 1, row * size, size);
    }

    private static void appendNested(StringBuilder json, Input input, int dimension, int offset, int size) {
        json.append('[');
        if (dimension == input.shape().length - 1) {
            appendRange(json, input, offset, size);
        } else {
            int count = (int) input.shape()[dimension];
            int step = size / count;
            for (int i = 0; i < count; i++) {
                json.append(i > 0 ? "," : "");
                appendNested(json, input, dimension + 1, offset + i * step, step);
            }
        }
        json.append(']');
    }

    private static void appendRange(StringBuilder json, Input input, int offset, int count) {
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                json.append(',');
            }
            if (input.type() == OnnxJavaType.FLOAT) {
                json.append(input.floats()[offset + i]);
            } else {
                json.append(input.longs()[offset + i]);
            }
        }
    }

    static long elements(long[] shape) {
        long size = 1;
        for (long dimension : shape) {
            size *= dimension;
        }
        return size;
    }
}

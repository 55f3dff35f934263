package io.microkernel.serving;

import com.fasterxml.jackson.databind.JsonNode;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns request JSON into validated {@link InputTensor}s for a model's input specs, or explains
 * what is wrong with an {@link InputValidationException} that says what was expected and what was
 * found. Two request shapes are understood:
 * <ul>
 *   <li>Open Inference Protocol v2 tensors: name, shape, datatype and flat or nested data
 *       ({@link #fromTensors});</li>
 *   <li>rows ("instances" of TF Serving and KServe v1, or one labelled sample): each row is one
 *       instance without the batch dimension; a model with several inputs takes each row as an
 *       object {@code {"inputName": value, ...}} ({@link #fromInstances}).</li>
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestTranslator {

    private final int maxBatch;

    /** @param maxBatch the most instances one request may carry ({@code microkernel.serving.max-batch}) */
    public RequestTranslator(int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("microkernel.serving.max-batch: expected at least 1, found " + maxBatch);
        }
        this.maxBatch = maxBatch;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Validates Open Inference Protocol input tensors against the model's inputs.
     *
     * @return one tensor per model input, in the model's input order
     * @throws InputValidationException when an input is unknown, missing, repeated, or does not fit
     */
    public List<InputTensor> fromTensors(List<TensorSpec> specs, List<TensorInput> inputs) {
        if (inputs == null || inputs.isEmpty()) {
            throw new InputValidationException(InputProblem.MISSING_INPUT,
                    "expected inputs " + names(specs) + ", found none");
        }
        Map<String, TensorSpec> byName = byName(specs);
        Map<String, InputTensor> tensors = new LinkedHashMap<>();
        for (TensorInput input : inputs) {
            if (input == null || input.name() == null) {
                throw new InputValidationException(InputProblem.MALFORMED,
                        "expected every input to have a name, found an input without one");
            }
            TensorSpec spec = byName.get(input.name());
            if (spec == null) {
                throw new InputValidationException(InputProblem.UNKNOWN_INPUT,
                        "expected inputs " + names(specs) + ", found unknown input '" + input.name() + "'");
            }
            if (tensors.containsKey(input.name())) {
                throw new InputValidationException(InputProblem.DUPLICATE_INPUT,
                        "expected input '" + input.name() + "' once, found it twice");
            }
            tensors.put(input.name(), fromTensor(spec, input));
        }
        return inModelOrder(specs, tensors);
    }

    /**
     * Validates rows: each one instance of the model's inputs, without the batch dimension.
     * A single-input model takes each row as that input's value (or as {@code {"name": value}});
     * a multi-input model takes each row as an object with every input by name.
     *
     * @return one tensor per model input, in the model's input order, batch = number of rows
     * @throws InputValidationException when there are no rows, too many, or a row does not fit
     */
    public List<InputTensor> fromInstances(List<TensorSpec> specs, List<JsonNode> instances) {
        if (instances == null || instances.isEmpty()) {
            throw new InputValidationException(InputProblem.EMPTY_BATCH, "expected at least 1 instance, found 0");
        }
        checkBatchLimit(instances.size());
        Map<String, List<JsonNode>> columns = new LinkedHashMap<>();
        specs.forEach(spec -> columns.put(spec.name(), new ArrayList<>(instances.size())));
        for (int row = 0; row < instances.size(); row++) {
            JsonNode instance = instances.get(row);
            if (specs.size() == 1 && !(instance != null && instance.isObject() && instance.has(specs.get(0).name()) && instance.size() == 1)) {
                columns.get(specs.get(0).name()).add(instance);
                continue;
            }
            if (instance == null || !instance.isObject()) {
                throw new InputValidationException(InputProblem.MALFORMED, "instance " + row
                        + ": expected an object with inputs " + names(specs) + ", found " + describe(instance));
            }
            for (var field : (Iterable<Map.Entry<String, JsonNode>>) instance::fields) {
                if (!columns.containsKey(field.getKey())) {
                    throw new InputValidationException(InputProblem.UNKNOWN_INPUT, "instance " + row
                            + ": expected inputs " + names(specs) + ", found unknown input '" + field.getKey() + "'");
                }
                columns.get(field.getKey()).add(field.getValue());
            }
            for (TensorSpec spec : specs) {
                if (!instance.has(spec.name())) {
                    throw new InputValidationException(InputProblem.MISSING_INPUT, "instance " + row
                            + ": expected inputs " + names(specs) + ", found no input '" + spec.name() + "'");
                }
            }
        }
        List<InputTensor> tensors = new ArrayList<>(specs.size());
        for (TensorSpec spec : specs) {
            tensors.add(fromRows(spec, columns.get(spec.name())));
        }
        return tensors;
    }

    private InputTensor fromTensor(TensorSpec spec, TensorInput input) {
        String what = "input '" + spec.name() + "'";
        Optional<DType> declared = Optional.ofNullable(input.datatype()).flatMap(DType::fromOipName);
        if (declared.isEmpty() || declared.get() != spec.dtype()) {
            throw new InputValidationException(InputProblem.WRONG_DATATYPE,
                    what + ": expected datatype " + spec.dtype().oipName() + ", found " + input.datatype());
        }
        List<Long> shape = input.shape();
        if (shape == null) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    what + ": expected a shape like " + spec.shapeText() + ", found none");
        }
        if (shape.size() != spec.shape().size() || shape.stream().anyMatch(d -> d == null || d < 0)) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE,
                    what + ": expected shape " + spec.shapeText() + ", found " + shapeText(shape));
        }
        for (int i = 0; i < shape.size(); i++) {
            long wanted = spec.shape().get(i);
            if (wanted >= 0 && shape.get(i) != wanted) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE,
                        what + ": expected shape " + spec.shapeText() + ", found " + shapeText(shape));
            }
        }
        if (!shape.isEmpty()) {
            if (shape.get(0) == 0) {
                throw new InputValidationException(InputProblem.EMPTY_BATCH,
                        what + ": expected at least 1 instance, found 0");
            }
            checkBatchLimit(shape.get(0));
        }
        long expected = elementCount(shape, what);
        if (input.data() == null || input.data().isNull()) {
            throw new InputValidationException(InputProblem.MALFORMED, what + ": expected data, found none");
        }
        long found = countLeaves(input.data());
        if (found != expected) {
            throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH,
                    what + ": shape " + shapeText(shape) + " expected " + expected + " values, found " + found);
        }
        Elements elements = Elements.of(spec.dtype(), (int) expected, what);
        fill(input.data(), elements);
        return new InputTensor(spec, shape.stream().mapToLong(Long::longValue).toArray(), elements.array());
    }

    private InputTensor fromRows(TensorSpec spec, List<JsonNode> rows) {
        String what = "input '" + spec.name() + "'";
        List<Long> instanceSpec = spec.shape().isEmpty() ? null : spec.shape().subList(1, spec.shape().size());
        if (instanceSpec == null) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE,
                    what + ": expected a model input with a batch dimension, found the scalar shape []");
        }
        List<Long> first = null;
        for (int row = 0; row < rows.size(); row++) {
            List<Long> found = nestedShape(rows.get(row), what + " instance " + row);
            boolean fits = found.size() == instanceSpec.size();
            for (int i = 0; fits && i < found.size(); i++) {
                fits = instanceSpec.get(i) < 0 || instanceSpec.get(i).equals(found.get(i));
            }
            if (!fits) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE, what + " instance " + row
                        + ": expected shape " + shapeText(instanceSpec) + ", found " + shapeText(found));
            }
            if (first == null) {
                first = found;
            } else if (!first.equals(found)) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE, what + " instance " + row
                        + ": expected the shape of instance 0, " + shapeText(first) + ", found " + shapeText(found));
            }
        }
        List<Long> shape = new ArrayList<>();
        shape.add((long) rows.size());
        shape.addAll(first);
        Elements elements = Elements.of(spec.dtype(), (int) elementCount(shape, what), what);
        for (JsonNode row : rows) {
            fill(row, elements);
        }
        return new InputTensor(spec, shape.stream().mapToLong(Long::longValue).toArray(), elements.array());
    }

    private void checkBatchLimit(long batch) {
        if (batch > maxBatch) {
            throw new InputValidationException(InputProblem.BATCH_TOO_LARGE,
                    "expected at most " + maxBatch + " instances (microkernel.serving.max-batch), found " + batch);
        }
    }

    private static List<InputTensor> inModelOrder(List<TensorSpec> specs, Map<String, InputTensor> tensors) {
        List<String> missing = specs.stream().map(TensorSpec::name).filter(n -> !tensors.containsKey(n)).toList();
        if (!missing.isEmpty()) {
            throw new InputValidationException(InputProblem.MISSING_INPUT,
                    "expected inputs " + names(specs) + ", found " + tensors.keySet() + " (missing " + missing + ")");
        }
        List<InputTensor> ordered = specs.stream().map(s -> tensors.get(s.name())).toList();
        Set<Integer> batches = new HashSet<>();
        ordered.stream().filter(t -> t.shape().length > 0).forEach(t -> batches.add(t.batchSize()));
        if (batches.size() > 1) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE, "expected the same batch size for every input, found "
                    + ordered.stream().map(t -> t.name() + " " + t.batchSize()).collect(Collectors.joining(", ")));
        }
        return ordered;
    }

    /** The shape of a nested JSON array; a scalar has shape []. Ragged arrays are rejected. */
    private static List<Long> nestedShape(JsonNode node, String what) {
        List<Long> shape = new ArrayList<>();
        JsonNode cursor = node;
        while (cursor != null && cursor.isArray()) {
            shape.add((long) cursor.size());
            cursor = cursor.size() == 0 ? null : cursor.get(0);
        }
        checkRectangular(node, shape, 0, what);
        return shape;
    }

    private static void checkRectangular(JsonNode node, List<Long> shape, int depth, String what) {
        if (depth == shape.size()) {
            if (node.isArray()) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE,
                        what + ": expected a value at depth " + depth + ", found a nested array");
            }
            return;
        }
        if (!node.isArray() || node.size() != shape.get(depth)) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE, what + ": expected rows of "
                    + shape.get(depth) + " values at depth " + depth + ", found " + describe(node) + " (ragged array)");
        }
        for (JsonNode child : node) {
            checkRectangular(child, shape, depth + 1, what);
        }
    }

    private static long elementCount(List<Long> shape, String what) {
        long count = 1;
        for (long dim : shape) {
            count = Math.multiplyExact(count, Math.max(dim, 0));
            if (count > Integer.MAX_VALUE) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE,
                        what + ": expected at most " + Integer.MAX_VALUE + " elements, found shape " + shapeText(shape));
            }
        }
        return count;
    }

    private static long countLeaves(JsonNode node) {
        if (!node.isArray()) {
            return 1;
        }
        long count = 0;
        for (JsonNode child : node) {
            count += countLeaves(child);
        }
        return count;
    }

    private static void fill(JsonNode node, Elements elements) {
        if (node != null && node.isArray()) {
            for (JsonNode child : node) {
                fill(child, elements);
            }
        } else {
            elements.add(node);
        }
    }

    private static Map<String, TensorSpec> byName(List<TensorSpec> specs) {
        Map<String, TensorSpec> map = new LinkedHashMap<>();
        specs.forEach(s -> map.put(s.name(), s));
        return map;
    }

    private static List<String> names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).toList();
    }

    static String shapeText(List<Long> shape) {
        return shape.stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    /** A short, printable rendering of a JSON value for error messages. */
    static String describe(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return "null";
        }
        String text = node.toString();
        return text.length() > 40 ? text.substring(0, 37) + "..." : text;
    }

    /** A primitive array of one dtype being filled in row-major order, checking every value. */
    private abstract static sealed class Elements {
        final String what;
        int next;

        Elements(String what) {
            this.what = what;
        }

        static Elements of(DType dtype, int size, String what) {
            return switch (dtype) {
                case FLOAT -> new Floats(size, what);
                case DOUBLE -> new Doubles(size, what);
                case INT32 -> new Ints(size, what);
                case INT64 -> new Longs(size, what);
                case BOOL -> new Booleans(size, what);
            };
        }

        abstract Object array();

        abstract void add(JsonNode value);

        InputValidationException notNumeric(JsonNode value, String expected) {
            return new InputValidationException(InputProblem.NOT_NUMERIC,
                    what + " element " + next + ": expected " + expected + ", found " + describe(value));
        }

        /** Numbers, plus the non-finite spellings so they can be reported as such rather than as text. */
        double number(JsonNode value, String dtype) {
            if (value != null && value.isNumber()) {
                return value.doubleValue();
            }
            if (value != null && value.isTextual()) {
                switch (value.textValue().trim().toLowerCase(java.util.Locale.ROOT)) {
                    case "nan" -> {
                        return Double.NaN;
                    }
                    case "inf", "+inf", "infinity", "+infinity" -> {
                        return Double.POSITIVE_INFINITY;
                    }
                    case "-inf", "-infinity" -> {
                        return Double.NEGATIVE_INFINITY;
                    }
                    default -> {
                    }
                }
            }
            throw notNumeric(value, "a " + dtype + " number");
        }

        void requireFinite(double v, JsonNode value, String dtype) {
            if (!Double.isFinite(v)) {
                String found;
                if (value != null && value.isNumber()) {
                    double parsed = value.doubleValue();
                    found = Double.isFinite(parsed) ? value.asText() + " (outside the " + dtype + " range)" : String.valueOf(parsed);
                } else {
                    found = describe(value);
                }
                throw new InputValidationException(InputProblem.NOT_FINITE, what + " element " + next
                        + ": expected a finite " + dtype + " value, found " + found);
            }
        }

        long integer(JsonNode value, String dtype, long min, long max) {
            if (value != null && value.isIntegralNumber() && value.canConvertToLong()) {
                long v = value.longValue();
                if (v >= min && v <= max) {
                    return v;
                }
            } else if (value != null && value.isNumber() && Double.isFinite(value.doubleValue())
                    && value.doubleValue() == Math.rint(value.doubleValue())
                    && value.doubleValue() >= min && value.doubleValue() <= max) {
                return (long) value.doubleValue();
            } else if (value == null || !value.isNumber()) {
                throw notNumeric(value, "an " + dtype + " integer");
            }
            throw new InputValidationException(InputProblem.WRONG_DATATYPE, what + " element " + next
                    + ": expected an " + dtype + " integer in [" + min + ", " + max + "], found " + describe(value));
        }
    }

    private static final class Floats extends Elements {
        final float[] data;

        Floats(int size, String what) {
            super(what);
            data = new float[size];
        }

        @Override
        Object array() {
            return data;
        }

        @Override
        void add(JsonNode value) {
            float v = (float) number(value, "FP32");
            requireFinite(v, value, "FP32");
            data[next++] = v;
        }
    }

    private static final class Doubles extends Elements {
        final double[] data;

        Doubles(int size, String what) {
            super(what);
            data = new double[size];
        }

        @Override
        Object array() {
            return data;
        }

        @Override
        void add(JsonNode value) {
            double v = number(value, "FP64");
            requireFinite(v, value, "FP64");
            data[next++] = v;
        }
    }

    private static final class Ints extends Elements {
        final int[] data;

        Ints(int size, String what) {
            super(what);
            data = new int[size];
        }

        @Override
        Object array() {
            return data;
        }

        @Override
        void add(JsonNode value) {
            data[next] = (int) integer(value, "INT32", Integer.MIN_VALUE, Integer.MAX_VALUE);
            next++;
        }
    }

    private static final class Longs extends Elements {
        final long[] data;

        Longs(int size, String what) {
            super(what);
            data = new long[size];
        }

        @Override
        Object array() {
            return data;
        }

        @Override
        void add(JsonNode value) {
            data[next] = integer(value, "INT64", Long.MIN_VALUE, Long.MAX_VALUE);
            next++;
        }
    }

    private static final class Booleans extends Elements {
        final boolean[] data;

        Booleans(int size, String what) {
            super(what);
            data = new boolean[size];
        }

        @Override
        Object array() {
            return data;
        }

        @Override
        void add(JsonNode value) {
            if (value == null || !value.isBoolean()) {
                throw new InputValidationException(InputProblem.WRONG_DATATYPE,
                        what + " element " + next + ": expected true or false, found " + describe(value));
            }
            data[next++] = value.booleanValue();
        }
    }
}

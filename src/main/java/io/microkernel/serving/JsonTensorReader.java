package io.microkernel.serving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.NumberInput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import java.io.IOException;
import java.util.Locale;

/**
 * Reads JSON tensor data from a streaming parser straight into a {@link Tensor}'s buffer, checking
 * every element against the type (finite floats, integers in range, booleans, strings for BYTES) and counting as it
 * goes. Plain numbers and booleans never become {@code JsonNode}s; only a value about to be
 * rejected, or an odd spelling ({@code "NaN"}, {@code 3.0} for an integer), is read as a node so
 * the message can show it as written.
 *
 * <p>Stateless and thread-safe.
 */
public final class JsonTensorReader {

    /** Reads single leaf values into nodes; the parsers handed in may come from any codec or none. */
    private static final ObjectMapper NODES = new ObjectMapper();

    private JsonTensorReader() {
    }

    /**
     * Reads the value at the parser's current token (an array, nested as it likes, or one scalar)
     * as the elements of a tensor of {@code dtype} and {@code shape}, in row-major order. Leaves the
     * parser on the value's last token.
     *
     * @throws InputValidationException as soon as there are more values than the shape holds, when
     *                                  there are fewer, or when a value does not fit the type
     * @throws IOException              when the JSON itself is broken
     */
    public static Tensor readFlat(JsonParser p, DType dtype, long[] shape, String what) throws IOException {
        return readFlat(p, dtype, shape, what, BufferPool.NONE);
    }

    /** Like {@link #readFlat(JsonParser, DType, long[], String)}, into a buffer borrowed from {@code pool} (the caller recycles the tensor). */
    public static Tensor readFlat(JsonParser p, DType dtype, long[] shape, String what, BufferPool pool) throws IOException {
        Tensor.Builder out = Tensor.builder(dtype, pool, shape);
        if (p.currentToken() == JsonToken.START_ARRAY) {
            readArray(p, out, shape, 0, what);
        } else {
            readLeaves(p, out, shape, what);
        }
        if (!out.isFull()) {
            throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, what + ": shape " + Shapes.text(shape)
                    + " expected " + out.capacity() + " values, found " + out.position());
        }
        return out.build();
    }

    /**
     * Reads the array at the parser's current token: flat (scalars only, counted against the whole
     * shape) or nested, and then exactly as the shape says: {@code shape[depth]} items at every
     * depth, scalars only at the last. A ragged or mixed array is refused where it breaks.
     */
    private static void readArray(JsonParser p, Tensor.Builder out, long[] shape, int depth, String what) throws IOException {
        Boolean nested = null;
        long count = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            boolean array = p.currentToken() == JsonToken.START_ARRAY;
            if (nested == null) {
                nested = array || depth > 0;
            }
            if (array != (nested && depth + 1 < shape.length)) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE, what + ": expected "
                        + (array ? "a value" : "an array") + " at depth " + (depth + 1) + " of nested data for shape "
                        + Shapes.text(shape) + ", found " + (array ? "an array" : "the value " + p.getText()));
            }
            if (array) {
                readArray(p, out, shape, depth + 1, what);
            } else {
                if (out.isFull()) {
                    throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, what + ": shape " + Shapes.text(shape)
                            + " expected " + out.capacity() + " values, found more");
                }
                addElement(p, out, what);
            }
            count++;
        }
        if (Boolean.TRUE.equals(nested) && depth < shape.length && count != shape[depth]) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE, what + ": expected " + shape[depth]
                    + " items at depth " + depth + " of nested data for shape " + Shapes.text(shape) + ", found " + count
                    + (depth > 0 ? " (ragged array)" : ""));
        }
    }

    /** Appends every leaf of the value at the parser's current token; {@code shape} only names the tensor in messages. */
    static void readLeaves(JsonParser p, Tensor.Builder out, long[] shape, String what) throws IOException {
        if (p.currentToken() == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
                readLeaves(p, out, shape, what);
            }
            return;
        }
        if (out.isFull()) {
            throw new InputValidationException(InputProblem.DATA_LENGTH_MISMATCH, what + ": shape " + Shapes.text(shape)
                    + " expected " + out.capacity() + " values, found more");
        }
        addElement(p, out, what);
    }

    /** Appends the value at the parser's current token (a scalar, or an object that is then rejected). */
    static void addElement(JsonParser p, Tensor.Builder out, String what) throws IOException {
        JsonToken token = p.currentToken();
        DType dtype = out.dtype();
        if (dtype.isString()) {
            if (token == JsonToken.VALUE_STRING) {
                addText(p.getText(), out, what);
            } else {
                addNode(tree(p), out, what);
            }
            return;
        }
        if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
            if (dtype.isFloatingPoint()) {
                double v = token == JsonToken.VALUE_NUMBER_FLOAT && !p.isNaN() ? decimal(p) : p.getDoubleValue();
                if (Double.isFinite(dtype.narrow(v))) {
                    out.addDouble(v);
                    return;
                }
            } else if (token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                    && dtype != DType.BOOL) {
                long v = p.getLongValue();
                if (v >= dtype.minLong() && v <= dtype.maxLong()) {
                    out.addLong(v);
                    return;
                }
            }
        } else if (dtype == DType.BOOL && (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE)) {
            out.addBoolean(token == JsonToken.VALUE_TRUE);
            return;
        }
        addNode(tree(p), out, what);
    }

    /**
     * The decimal number at the parser, read from the parser's own characters: {@code getDoubleValue()}
     * would first make a String of them, which was most of what a JSON request allocated. Both
     * parsers round correctly, so the value is the same.
     */
    private static double decimal(JsonParser p) throws IOException {
        return NumberInput.parseDouble(p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), true);
    }

    /** Appends one JSON value, or says why it does not fit the type. */
    static void addNode(JsonNode value, Tensor.Builder out, String what) {
        Element element = new Element(what, out.position());
        DType dtype = out.dtype();
        String name = dtype.oipName();
        if (dtype.isString()) {
            if (value == null || !value.isTextual()) {
                throw new InputValidationException(InputProblem.WRONG_DATATYPE,
                        what + " element " + element.index + ": expected a string, found " + describe(value));
            }
            addText(value.textValue(), out, what);
        } else if (dtype == DType.BOOL) {
            if (value == null || !value.isBoolean()) {
                throw new InputValidationException(InputProblem.WRONG_DATATYPE,
                        what + " element " + element.index + ": expected true or false, found " + describe(value));
            }
            out.addBoolean(value.booleanValue());
        } else if (dtype.isFloatingPoint()) {
            double v = dtype.narrow(element.number(value, name));
            element.requireFinite(v, value, name);
            out.addDouble(v);
        } else {
            out.addLong(element.integer(value, name, dtype.minLong(), dtype.maxLong()));
        }
    }

    /** Appends one text element, or says why the runtime could not take it. */
    private static void addText(String text, Tensor.Builder out, String what) {
        try {
            out.addString(text);
        } catch (IllegalArgumentException e) {
            throw new InputValidationException(InputProblem.WRONG_DATATYPE, what + " " + e.getMessage());
        }
    }

    /** The value at the parser's current token as a tree: only for values about to be rejected. */
    static JsonNode tree(JsonParser p) throws IOException {
        return NODES.readTree(p);
    }

    /** A short, printable rendering of a JSON value for error messages. */
    static String describe(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return "null";
        }
        String text = node.toString();
        return text.length() > 40 ? text.substring(0, 37) + "..." : text;
    }

    /** The checks of one element, which name the element in what they throw. */
    private record Element(String what, int index) {

        InputValidationException notNumeric(JsonNode value, String expected) {
            return new InputValidationException(InputProblem.NOT_NUMERIC,
                    what + " element " + index + ": expected " + expected + ", found " + describe(value));
        }

        /** Numbers, plus the non-finite spellings so they can be reported as such rather than as text. */
        double number(JsonNode value, String dtype) {
            if (value != null && value.isNumber()) {
                return value.doubleValue();
            }
            if (value != null && value.isTextual()) {
                switch (value.textValue().trim().toLowerCase(Locale.ROOT)) {
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
                throw new InputValidationException(InputProblem.NOT_FINITE, what + " element " + index
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
            throw new InputValidationException(InputProblem.WRONG_DATATYPE, what + " element " + index
                    + ": expected an " + dtype + " integer in [" + min + ", " + max + "], found " + describe(value));
        }
    }
}

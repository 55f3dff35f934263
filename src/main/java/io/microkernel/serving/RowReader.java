package io.microkernel.serving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads rows (TF Serving "instances", or the inputs of labelled samples) into one tensor per model
 * input. Each row arrives as buffered tokens, because the request is read before the model that
 * answers it is known; the rows are then streamed three times, cheaply: to find each input's value,
 * to measure its nested shape, and to write its elements straight into the input's buffer. A tree
 * is built only for a row about to be rejected, so the message can show it as written.
 *
 * <p>Not thread-safe; one reader serves one request on one thread.
 */
final class RowReader {

    /** Marks a row that is itself the value of the only input (not an object of inputs by name). */
    private static final int WHOLE_ROW = -1;

    private final List<TensorSpec> specs;
    private final List<TokenBuffer> rows;
    /** Per row and input: the ordinal of the object field holding that input's value, or {@link #WHOLE_ROW}. */
    private final int[][] fields;
    /** Where the tensors' buffers come from; the caller owns the tensors read. */
    private final BufferPool pool;

    RowReader(List<TensorSpec> specs, List<TokenBuffer> rows, BufferPool pool) {
        this.specs = specs;
        this.pool = pool;
        this.rows = rows.stream().map(r -> r != null ? r : nullRow()).toList();
        this.fields = new int[rows.size()][];
    }

    private static TokenBuffer nullRow() {
        TokenBuffer tokens = new TokenBuffer((ObjectCodec) null, false);
        try {
            tokens.writeNull();
        } catch (IOException e) {
            throw new UncheckedIOException("a token buffer writes to memory", e);
        }
        return tokens;
    }

    /** One tensor per model input, in the model's input order, batch = number of rows. */
    List<NamedTensor> read() throws IOException {
        for (int row = 0; row < rows.size(); row++) {
            fields[row] = locate(row);
        }
        List<NamedTensor> tensors = new ArrayList<>(specs.size());
        for (int s = 0; s < specs.size(); s++) {
            tensors.add(column(s));
        }
        return tensors;
    }

    /**
     * TF Serving's columnar format: the one "row" holds each input's whole tensor, batch dimension
     * included, checked against the input's full shape.
     */
    List<NamedTensor> readColumns() throws IOException {
        fields[0] = locate(0);
        List<NamedTensor> tensors = new ArrayList<>(specs.size());
        for (int s = 0; s < specs.size(); s++) {
            TensorSpec spec = specs.get(s);
            String what = "input '" + spec.name() + "'";
            List<Long> found = shapeOf(0, s, what);
            if (!fits(spec.shape(), found)) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE,
                        what + ": expected shape " + spec.shapeText() + ", found " + Shapes.text(found));
            }
            long[] shape = Shapes.toArray(found);
            RequestTranslator.checkElementCount(shape, what);
            Tensor.Builder out = Tensor.builder(spec.dtype(), pool, shape);
            try (JsonParser p = value(0, s)) {
                JsonTensorReader.readLeaves(p, out, shape, what);
            }
            tensors.add(new NamedTensor(spec.name(), out.build()));
        }
        return tensors;
    }

    /** Whether a measured shape fits a declared one ({@code -1} takes any size). */
    private static boolean fits(List<Long> declared, List<Long> found) {
        boolean fits = found.size() == declared.size();
        for (int i = 0; fits && i < found.size(); i++) {
            fits = declared.get(i) < 0 || declared.get(i).equals(found.get(i));
        }
        return fits;
    }

    /** Where each input's value sits in row {@code row}; rejects unknown and missing inputs. */
    private int[] locate(int row) throws IOException {
        int[] at = new int[specs.size()];
        Arrays.fill(at, Integer.MIN_VALUE);
        try (JsonParser p = start(rows.get(row))) {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                if (specs.size() == 1) {
                    return new int[] {WHOLE_ROW};
                }
                throw new InputValidationException(InputProblem.MALFORMED, "instance " + row + ": expected an object with inputs "
                        + names() + ", found " + JsonTensorReader.describe(JsonTensorReader.tree(p)));
            }
            List<String> names = new ArrayList<>();
            for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
                p.nextToken();
                p.skipChildren();
                names.add(field);
            }
            // A JSON object keeps the last of repeated keys, in the place of the first.
            Set<String> distinct = new LinkedHashSet<>(names);
            if (specs.size() == 1 && !(distinct.size() == 1 && distinct.contains(specs.get(0).name()))) {
                return new int[] {WHOLE_ROW};
            }
            for (String name : distinct) {
                if (indexOf(name) < 0) {
                    throw new InputValidationException(InputProblem.UNKNOWN_INPUT, "instance " + row
                            + ": expected inputs " + names() + ", found unknown input '" + name + "'");
                }
            }
            for (int k = 0; k < names.size(); k++) {
                at[indexOf(names.get(k))] = k;
            }
        }
        for (int s = 0; s < specs.size(); s++) {
            if (at[s] == Integer.MIN_VALUE) {
                throw new InputValidationException(InputProblem.MISSING_INPUT, "instance " + row
                        + ": expected inputs " + names() + ", found no input '" + specs.get(s).name() + "'");
            }
        }
        return at;
    }

    private NamedTensor column(int s) throws IOException {
        TensorSpec spec = specs.get(s);
        String what = "input '" + spec.name() + "'";
        if (spec.shape().isEmpty()) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE,
                    what + ": expected a model input with a batch dimension, found the scalar shape []");
        }
        List<Long> instanceSpec = spec.shape().subList(1, spec.shape().size());
        List<Long> first = null;
        for (int row = 0; row < rows.size(); row++) {
            List<Long> found = shapeOf(row, s, what + " instance " + row);
            if (!fits(instanceSpec, found)) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE, what + " instance " + row
                        + ": expected shape " + Shapes.text(instanceSpec) + ", found " + Shapes.text(found));
            }
            if (first == null) {
                first = found;
            } else if (!first.equals(found)) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE, what + " instance " + row
                        + ": expected the shape of instance 0, " + Shapes.text(first) + ", found " + Shapes.text(found));
            }
        }
        long[] shape = Shapes.withBatch(rows.size(), Shapes.toArray(first));
        RequestTranslator.checkElementCount(shape, what);
        Tensor.Builder out = Tensor.builder(spec.dtype(), pool, shape);
        for (int row = 0; row < rows.size(); row++) {
            try (JsonParser p = value(row, s)) {
                JsonTensorReader.readLeaves(p, out, shape, what);
            }
        }
        return new NamedTensor(spec.name(), out.build());
    }

    /** The nested shape of input {@code s} in row {@code row}; a ragged value is rejected, its message built from its tree. */
    private List<Long> shapeOf(int row, int s, String what) throws IOException {
        List<Long> shape = new ArrayList<>();
        try (JsonParser p = value(row, s)) {
            if (walk(p, 0, true, shape)) {
                return shape;
            }
        }
        try (JsonParser p = value(row, s)) {
            RaggedArrays.explain(JsonTensorReader.tree(p), what);
        }
        throw new InputValidationException(InputProblem.WRONG_SHAPE, what + ": expected a rectangular array, found a ragged one");
    }

    /**
     * Walks one JSON value: the arrays on its first-element path fix the shape (an empty one ends
     * it), every other array must match that shape at its depth and every leaf must sit at the
     * shape's full depth. Returns false for a ragged value; always leaves the parser on the value's
     * last token.
     */
    private static boolean walk(JsonParser p, int depth, boolean firstPath, List<Long> shape) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            p.skipChildren();
            return firstPath || depth == shape.size();
        }
        if (!firstPath && depth >= shape.size()) {
            p.skipChildren();
            return false;
        }
        if (firstPath) {
            shape.add(0L);
        }
        long count = 0;
        boolean rectangular = true;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            rectangular &= walk(p, depth + 1, firstPath && count == 0, shape);
            count++;
        }
        if (firstPath) {
            shape.set(depth, count);
            return rectangular;
        }
        return rectangular && count == shape.get(depth);
    }

    /** A parser on the value of input {@code s} in row {@code row}. */
    private JsonParser value(int row, int s) throws IOException {
        JsonParser p = start(rows.get(row));
        int field = fields[row][s];
        if (field == WHOLE_ROW) {
            return p;
        }
        for (int k = 0; p.nextFieldName() != null; k++) {
            p.nextToken();
            if (k == field) {
                return p;
            }
            p.skipChildren();
        }
        p.close();
        throw new IllegalStateException("row " + row + " lost field " + field);
    }

    private static JsonParser start(TokenBuffer tokens) throws IOException {
        JsonParser p = tokens.asParser();
        p.nextToken();
        return p;
    }

    private int indexOf(String name) {
        for (int s = 0; s < specs.size(); s++) {
            if (specs.get(s).name().equals(name)) {
                return s;
            }
        }
        return -1;
    }

    private List<String> names() {
        return specs.stream().map(TensorSpec::name).toList();
    }

    /** Says where a ragged array breaks, from its tree; rows only get here when they are about to be rejected. */
    private static final class RaggedArrays {

        static void explain(JsonNode node, String what) {
            List<Long> shape = new ArrayList<>();
            JsonNode cursor = node;
            while (cursor != null && cursor.isArray()) {
                shape.add((long) cursor.size());
                cursor = cursor.size() == 0 ? null : cursor.get(0);
            }
            check(node, shape, 0, what);
        }

        private static void check(JsonNode node, List<Long> shape, int depth, String what) {
            if (depth == shape.size()) {
                if (node.isArray()) {
                    throw new InputValidationException(InputProblem.WRONG_SHAPE,
                            what + ": expected a value at depth " + depth + ", found a nested array");
                }
                return;
            }
            if (!node.isArray() || node.size() != shape.get(depth)) {
                throw new InputValidationException(InputProblem.WRONG_SHAPE, what + ": expected rows of "
                        + shape.get(depth) + " values at depth " + depth + ", found "
                        + JsonTensorReader.describe(node) + " (ragged array)");
            }
            for (JsonNode child : node) {
                check(child, shape, depth + 1, what);
            }
        }
    }
}

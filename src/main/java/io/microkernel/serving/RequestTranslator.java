package io.microkernel.serving;

import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Shapes;
import io.microkernel.tensor.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Turns request JSON into validated {@link NamedTensor}s for a model's input specs, or explains
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
    public List<NamedTensor> fromTensors(List<TensorSpec> specs, List<TensorInput> inputs) {
        if (inputs == null || inputs.isEmpty()) {
            throw new InputValidationException(InputProblem.MISSING_INPUT,
                    "expected inputs " + names(specs) + ", found none");
        }
        // Arrays by the model's input order rather than maps: models have a handful of inputs, and this runs per request.
        NamedTensor[] bySpec = new NamedTensor[specs.size()];
        for (TensorInput input : inputs) {
            if (input == null || input.name() == null) {
                throw new InputValidationException(InputProblem.MALFORMED,
                        "expected every input to have a name, found an input without one");
            }
            int index = indexOf(specs, input.name());
            if (index < 0) {
                throw new InputValidationException(InputProblem.UNKNOWN_INPUT,
                        "expected inputs " + names(specs) + ", found unknown input '" + input.name() + "'");
            }
            if (bySpec[index] != null) {
                throw new InputValidationException(InputProblem.DUPLICATE_INPUT,
                        "expected input '" + input.name() + "' once, found it twice");
            }
            bySpec[index] = fromTensor(specs.get(index), input);
        }
        return inModelOrder(specs, bySpec, () -> inputs.stream().map(TensorInput::name).toList());
    }

    /**
     * Validates rows: each one instance of the model's inputs, without the batch dimension.
     * A single-input model takes each row as that input's value (or as {@code {"name": value}});
     * a multi-input model takes each row as an object with every input by name.
     *
     * @return one tensor per model input, in the model's input order, batch = number of rows
     * @throws InputValidationException when there are no rows, too many, or a row does not fit
     */
    public List<NamedTensor> fromInstances(List<TensorSpec> specs, List<TokenBuffer> instances) {
        return fromInstances(specs, instances, BufferPool.NONE);
    }

    /**
     * Like {@link #fromInstances(List, List)}, into buffers borrowed from {@code pool}; the caller
     * owns the tensors and {@link io.microkernel.tensor.Tensor#recycle() recycles} them.
     */
    public List<NamedTensor> fromInstances(List<TensorSpec> specs, List<TokenBuffer> instances, BufferPool pool) {
        if (instances == null || instances.isEmpty()) {
            throw new InputValidationException(InputProblem.EMPTY_BATCH, "expected at least 1 instance, found 0");
        }
        checkBatchLimit(instances.size());
        try {
            return new RowReader(specs, instances, pool).read();
        } catch (IOException e) {
            throw new UncheckedIOException("replaying buffered tokens failed", e);
        }
    }

    /**
     * Validates TF Serving's columnar format: {@code inputs} is the value of the only input, or an
     * object with every input by name; each value is the whole tensor, batch dimension included.
     *
     * @return one tensor per model input, in the model's input order
     * @throws InputValidationException when an input is unknown, missing, or does not fit
     */
    public List<NamedTensor> fromColumns(List<TensorSpec> specs, TokenBuffer inputs) {
        return fromColumns(specs, inputs, BufferPool.NONE);
    }

    /**
     * Like {@link #fromColumns(List, TokenBuffer)}, into buffers borrowed from {@code pool}; the
     * caller owns the tensors and {@link io.microkernel.tensor.Tensor#recycle() recycles} them.
     */
    public List<NamedTensor> fromColumns(List<TensorSpec> specs, TokenBuffer inputs, BufferPool pool) {
        try {
            List<NamedTensor> tensors = new RowReader(specs, List.of(inputs), pool).readColumns();
            tensors.stream().filter(t -> t.tensor().rank() > 0).forEach(t -> {
                if (t.tensor().batchSize() == 0) {
                    throw new InputValidationException(InputProblem.EMPTY_BATCH,
                            "input '" + t.name() + "': expected at least 1 instance, found 0");
                }
                checkBatchLimit(t.tensor().batchSize());
            });
            return inModelOrder(specs, tensors.stream().collect(Collectors.toMap(NamedTensor::name, t -> t)));
        } catch (IOException e) {
            throw new UncheckedIOException("replaying buffered tokens failed", e);
        }
    }

    private NamedTensor fromTensor(TensorSpec spec, TensorInput input) {
        String what = "input '" + spec.name() + "'";
        Optional<DType> declared = Optional.ofNullable(input.datatype()).flatMap(DType::fromOipName);
        if (declared.isEmpty() || declared.get() != spec.dtype()) {
            throw new InputValidationException(InputProblem.WRONG_DATATYPE,
                    what + ": expected datatype " + spec.dtype().oipName() + ", found " + input.datatype()
                            + DType.refusal(input.datatype()).map(r -> " (" + r + ")").orElse(""));
        }
        List<Long> shape = input.shape();
        if (shape == null) {
            throw new InputValidationException(InputProblem.MALFORMED,
                    what + ": expected a shape like " + spec.shapeText() + ", found none");
        }
        if (shape.size() != spec.shape().size() || hasUnknownDimension(shape)) {
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
        long[] concrete = Shapes.toArray(shape);
        checkElementCount(concrete, what);
        if (input.data() == null) {
            throw new InputValidationException(InputProblem.MALFORMED, what + ": expected data, found none");
        }
        return new NamedTensor(spec.name(), input.data().read(spec.dtype(), concrete, what));
    }

    private void checkBatchLimit(long batch) {
        if (batch > maxBatch) {
            throw new InputValidationException(InputProblem.BATCH_TOO_LARGE,
                    "expected at most " + maxBatch + " instances (microkernel.serving.max-batch), found " + batch);
        }
    }

    private static List<NamedTensor> inModelOrder(List<TensorSpec> specs, Map<String, NamedTensor> tensors) {
        NamedTensor[] bySpec = new NamedTensor[specs.size()];
        for (int i = 0; i < bySpec.length; i++) {
            bySpec[i] = tensors.get(specs.get(i).name());
        }
        return inModelOrder(specs, bySpec, () -> List.copyOf(tensors.keySet()));
    }

    /**
     * The tensors in model order, every input present and one batch size for all.
     *
     * @param found the names given, in the order given, for the message when one is missing
     */
    private static List<NamedTensor> inModelOrder(List<TensorSpec> specs, NamedTensor[] bySpec,
            java.util.function.Supplier<List<String>> found) {
        int batch = -1;
        boolean mixed = false;
        for (int i = 0; i < bySpec.length; i++) {
            NamedTensor tensor = bySpec[i];
            if (tensor == null) {
                List<String> missing = new java.util.ArrayList<>();
                for (int j = 0; j < bySpec.length; j++) {
                    if (bySpec[j] == null) {
                        missing.add(specs.get(j).name());
                    }
                }
                throw new InputValidationException(InputProblem.MISSING_INPUT,
                        "expected inputs " + names(specs) + ", found " + found.get() + " (missing " + missing + ")");
            }
            if (tensor.tensor().rank() > 0) {
                int size = tensor.tensor().batchSize();
                mixed |= batch >= 0 && size != batch;
                batch = size;
            }
        }
        List<NamedTensor> ordered = java.util.Arrays.asList(bySpec);
        if (mixed) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE, "expected the same batch size for every input, found "
                    + ordered.stream().map(t -> t.name() + " " + t.tensor().batchSize()).collect(Collectors.joining(", ")));
        }
        return java.util.Collections.unmodifiableList(ordered);
    }

    private static boolean hasUnknownDimension(List<Long> shape) {
        for (Long dim : shape) {
            if (dim == null || dim < 0) {
                return true;
            }
        }
        return false;
    }

    private static int indexOf(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    static void checkElementCount(long[] shape, String what) {
        try {
            Shapes.elementCountInt(shape);
        } catch (IllegalArgumentException e) {
            throw new InputValidationException(InputProblem.WRONG_SHAPE,
                    what + ": expected at most " + Integer.MAX_VALUE + " elements, found shape " + Shapes.text(shape));
        }
    }

    private static List<String> names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).toList();
    }

    private static String shapeText(List<Long> shape) {
        return Shapes.text(shape);
    }
}

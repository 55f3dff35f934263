package io.microkernel.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.microkernel.artifacts.ArtifactDescription;
import io.microkernel.artifacts.LossKind;
import io.microkernel.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The labels a model accepts, read from its artifact description: a class name or index for
 * cross-entropy models, a finite float target of the label input's shape for MSE models. Turns a
 * JSON label into a {@link SampleLabel} or says what was expected and found.
 *
 * <p>Immutable and thread-safe.
 */
public final class LabelDomain {

    private final LossKind loss;
    private final List<String> classNames;
    private final int classes;
    private final long[] targetShape;
    private final String labelName;

    public LabelDomain(ArtifactDescription description) {
        this.loss = description.loss();
        this.classNames = List.copyOf(description.classNames());
        this.classes = Math.max(description.numClasses(), classNames.size());
        TensorSpec label = description.label();
        this.labelName = label.name();
        List<Long> shape = label.shape();
        // The label's first dimension is the batch; what follows is one sample's target.
        long[] perSample = new long[Math.max(0, shape.size() - 1)];
        for (int i = 1; i < shape.size(); i++) {
            perSample[i - 1] = shape.get(i);
        }
        this.targetShape = perSample;
    }

    public LossKind loss() {
        return loss;
    }

    /** The name a report uses for a class index: its class name when known. */
    public String className(int index) {
        return index < classNames.size() ? classNames.get(index) : Integer.toString(index);
    }

    /** Per-class counts keyed by class name, in class order. */
    public Map<String, Long> byName(Map<Integer, Long> perClass) {
        Map<String, Long> named = new java.util.LinkedHashMap<>();
        new TreeMap<>(perClass).forEach((index, count) -> named.put(className(index), count));
        return named;
    }

    /**
     * Reads the label of sample {@code row}.
     *
     * @throws InvalidSampleException when it is missing or outside the domain
     */
    public SampleLabel parse(int row, JsonNode label) {
        String what = "sample " + row + " label";
        if (label == null || label.isNull() || label.isMissingNode()) {
            throw new InvalidSampleException(what + ": expected " + expectation() + ", found none");
        }
        return loss == LossKind.CROSS_ENTROPY ? classLabel(what, label) : target(what, label);
    }

    private String expectation() {
        if (loss == LossKind.CROSS_ENTROPY) {
            return "a class name of " + classNames + " or a class index in [0, " + classes + ")";
        }
        return "a finite number or an array of " + countText() + " finite numbers (label '" + labelName + "')";
    }

    private String countText() {
        long n = 1;
        for (long d : targetShape) {
            if (d < 0) {
                return "any number of";
            }
            n *= d;
        }
        return Long.toString(n);
    }

    private SampleLabel classLabel(String what, JsonNode label) {
        if (label.isTextual()) {
            int index = classNames.indexOf(label.textValue());
            if (index < 0) {
                throw new InvalidSampleException(what + ": expected " + expectation() + ", found \""
                        + shorten(label.textValue()) + "\"");
            }
            return new SampleLabel.ClassIndex(index);
        }
        if (label.isIntegralNumber() && label.canConvertToInt()) {
            int index = label.intValue();
            if (index >= 0 && index < classes) {
                return new SampleLabel.ClassIndex(index);
            }
        }
        throw new InvalidSampleException(what + ": expected " + expectation() + ", found " + shorten(label.toString()));
    }

    private SampleLabel target(String what, JsonNode label) {
        List<Float> values = new ArrayList<>();
        List<Long> shape = new ArrayList<>();
        collect(what, label, values, shape, 0);
        long expected = 1;
        boolean dynamic = false;
        for (long d : targetShape) {
            dynamic |= d < 0;
            expected *= Math.max(d, 1);
        }
        long[] resolved;
        if (dynamic) {
            if (shape.size() != targetShape.length) {
                throw new InvalidSampleException(what + ": expected a target of rank " + targetShape.length
                        + ", found rank " + shape.size());
            }
            resolved = shape.stream().mapToLong(Long::longValue).toArray();
        } else {
            if (values.size() != expected) {
                throw new InvalidSampleException(what + ": expected " + expected + " target values for label '"
                        + labelName + "' of shape " + java.util.Arrays.toString(targetShape) + ", found " + values.size());
            }
            // A bare number or a flat list of the right length both fit: the count is what matters.
            resolved = targetShape.clone();
        }
        float[] data = new float[values.size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = values.get(i);
        }
        return new SampleLabel.Target(resolved, data);
    }

    private static void collect(String what, JsonNode node, List<Float> values, List<Long> shape, int depth) {
        if (node.isArray()) {
            if (shape.size() == depth) {
                shape.add((long) node.size());
            }
            for (JsonNode child : node) {
                collect(what, child, values, shape, depth + 1);
            }
            return;
        }
        if (!node.isNumber()) {
            throw new InvalidSampleException(what + ": expected finite numbers, found " + shorten(node.toString()));
        }
        float v = (float) node.doubleValue();
        if (!Float.isFinite(v)) {
            throw new InvalidSampleException(what + ": expected finite numbers, found " + node);
        }
        values.add(v);
    }

    private static String shorten(String text) {
        return text.length() > 40 ? text.substring(0, 37) + "..." : text;
    }
}

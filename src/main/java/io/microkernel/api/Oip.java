package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.serving.Classification;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.OutputTensor;
import io.microkernel.serving.Prediction;
import io.microkernel.serving.TensorInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Request and response bodies of the Open Inference Protocol v2 (KServe, Triton). */
public final class Oip {

    /** Extra output naming the predicted class of each row, added for classifiers. */
    static final String PREDICTED_CLASS = "predicted_class";

    private Oip() {
    }

    public record InferRequest(String id, List<InferInput> inputs, List<RequestedOutput> outputs,
            Map<String, Object> parameters) {

        List<TensorInput> tensorInputs() {
            if (inputs == null) {
                return List.of();
            }
            return inputs.stream().map(i -> i == null ? null : new TensorInput(i.name(), i.shape(), i.datatype(), i.data())).toList();
        }
    }

    public record InferInput(String name, List<Long> shape, String datatype, JsonNode data, Map<String, Object> parameters) {
    }

    public record RequestedOutput(String name) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record InferResponse(
            @JsonProperty("model_name") String modelName,
            @JsonProperty("model_version") String modelVersion,
            String id,
            List<InferOutput> outputs) {

        static InferResponse of(String model, String id, Prediction prediction, List<RequestedOutput> requested) {
            Set<String> available = prediction.outputs().stream().map(OutputTensor::name).collect(Collectors.toSet());
            // A model output of the same name wins over the added one.
            boolean addClassOutput = prediction.isClassification() && available.add(PREDICTED_CLASS);
            Set<String> wanted = null;
            if (requested != null && !requested.isEmpty()) {
                wanted = requested.stream().map(RequestedOutput::name).collect(Collectors.toSet());
                for (String name : wanted) {
                    if (!available.contains(name)) {
                        throw new InputValidationException(InputProblem.UNKNOWN_INPUT,
                                "expected requested outputs among " + available + ", found '" + name + "'");
                    }
                }
            }
            List<InferOutput> outputs = new ArrayList<>();
            for (OutputTensor output : prediction.outputs()) {
                if (wanted == null || wanted.contains(output.name())) {
                    outputs.add(new InferOutput(output.name(), output.dtype().oipName(), output.shape(), output.data()));
                }
            }
            if (addClassOutput && (wanted == null || wanted.contains(PREDICTED_CLASS))) {
                List<String> classes = prediction.classifications().stream().map(Classification::className).toList();
                outputs.add(new InferOutput(PREDICTED_CLASS, "BYTES", List.of((long) classes.size()), classes));
            }
            return new InferResponse(model, Integer.toString(prediction.version()), id, outputs);
        }
    }

    public record InferOutput(String name, String datatype, List<Long> shape, Object data) {
    }

    public record ServerMetadata(String name, String version, List<String> extensions) {
    }

    public record TensorMetadata(String name, String datatype, List<Long> shape) {

        static TensorMetadata of(TensorSpec spec) {
            return new TensorMetadata(spec.name(), spec.dtype().oipName(), spec.shape());
        }
    }

    /** Model metadata; {@code classes} is an addition for classifiers. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
            List<TensorMetadata> outputs, List<String> classes) {
    }

    public record Readiness(String name, boolean ready) {
    }

    public record Liveness(boolean live) {
    }
}

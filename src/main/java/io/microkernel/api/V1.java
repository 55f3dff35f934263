package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.serving.Classification;
import io.microkernel.serving.InputProblem;
import io.microkernel.serving.InputValidationException;
import io.microkernel.serving.ModelSignature;
import io.microkernel.serving.Prediction;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request and response bodies of TF Serving's REST API, KServe v1 and the version endpoints. */
public final class V1 {

    private V1() {
    }

    /** The only signature a served ONNX model has, under TF Serving's default name. */
    static final String SERVING_DEFAULT = "serving_default";

    /** Refuses a {@code signature_name} other than {@code serving_default}, rather than ignoring it. */
    static void checkSignature(String signatureName) {
        if (signatureName != null && !signatureName.equals(SERVING_DEFAULT)) {
            throw new InputValidationException(InputProblem.MALFORMED, "expected signature_name '" + SERVING_DEFAULT
                    + "' or none, found '" + signatureName + "'");
        }
    }

    /**
     * TF Serving's predict request: rows ({@code instances}) or columns ({@code inputs}), never both.
     * Values are kept as tokens, streamed into tensors once the version that answers is known.
     */
    public record PredictRequest(
            @JsonDeserialize(using = BoundedRows.Instances.class) @Schema(type = SchemaType.ARRAY) List<TokenBuffer> instances,
            @Schema(type = SchemaType.OBJECT) TokenBuffer inputs,
            @JsonProperty("signature_name") String signatureName) {
    }

    /** TF Serving's classify request; each example is one instance (an object with the inputs by name). */
    public record ClassifyRequest(@JsonProperty("signature_name") String signatureName,
            @Schema(type = SchemaType.OBJECT) Map<String, Object> context,
            @Schema(type = SchemaType.ARRAY) List<TokenBuffer> examples) {

        public ClassifyRequest {
            if (context != null && !context.isEmpty()) {
                throw new InputValidationException(InputProblem.MALFORMED,
                        "expected no 'context' (features shared by the examples are not supported), found " + context.keySet());
            }
        }
    }

    /**
     * {@code {"predictions":[...]}}: per row, the only output's value, or an object by output name;
     * {@code id} is the prediction id feedback can label it by.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PredictResponse(List<Object> predictions, @JsonProperty("model_version") String modelVersion, String id) {

        static PredictResponse of(Prediction prediction, String id) {
            List<NamedTensor> outputs = prediction.outputs();
            int rows = outputs.isEmpty() ? 1 : outputs.get(0).tensor().batchSize();
            List<Object> predictions = new ArrayList<>(rows);
            for (int row = 0; row < rows; row++) {
                if (outputs.size() == 1) {
                    predictions.add(row(outputs.get(0), row));
                } else {
                    Map<String, Object> answer = new LinkedHashMap<>();
                    for (NamedTensor output : outputs) {
                        answer.put(output.name(), row(output, row));
                    }
                    predictions.add(answer);
                }
            }
            return new PredictResponse(predictions, Integer.toString(prediction.version()), id);
        }

        /** One batch row of an output, nested as its shape says (a scalar for a [batch] output). */
        private static Object row(NamedTensor output, int row) {
            Tensor tensor = output.tensor();
            if (tensor.rank() == 0) {
                return tensor.boxed(0);
            }
            int length = tensor.rowLength();
            return nest(tensor, 1, row * length, length);
        }
    }

    /** {@code {"outputs": ...}}: the only output's whole value, or an object by output name; {@code id} as for predict. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ColumnarResponse(Object outputs, @JsonProperty("model_version") String modelVersion, String id) {

        static ColumnarResponse of(Prediction prediction, String id) {
            List<NamedTensor> outputs = prediction.outputs();
            Object value;
            if (outputs.size() == 1) {
                value = whole(outputs.get(0).tensor());
            } else {
                Map<String, Object> byName = new LinkedHashMap<>();
                outputs.forEach(o -> byName.put(o.name(), whole(o.tensor())));
                value = byName;
            }
            return new ColumnarResponse(value, Integer.toString(prediction.version()), id);
        }

        private static Object whole(Tensor tensor) {
            return tensor.rank() == 0 ? tensor.boxed(0) : nest(tensor, 0, 0, tensor.elementCount());
        }
    }

    /** {@code {"result": [[[label, score], ...], ...]}}: per example, every class with its score. */
    public record ClassifyResponse(List<List<List<Object>>> result, @JsonProperty("model_version") String modelVersion) {

        static ClassifyResponse of(ModelSignature signature, Prediction prediction) {
            if (!prediction.isClassification()) {
                throw new InputValidationException(InputProblem.MALFORMED,
                        "expected a classification model for :classify (one with a scores output), found one without");
            }
            List<String> names = signature.classNames();
            List<List<List<Object>>> result = new ArrayList<>();
            for (Classification row : prediction.classifications()) {
                List<List<Object>> classes = new ArrayList<>();
                for (int c = 0; c < row.scores().length; c++) {
                    classes.add(List.of(c < names.size() ? names.get(c) : Integer.toString(c), row.scores()[c]));
                }
                result.add(classes);
            }
            return new ClassifyResponse(result, Integer.toString(prediction.version()));
        }
    }

    /** The elements from {@code offset}, {@code length} of them, nested as the tensor's dimensions from {@code axis} say. */
    static Object nest(Tensor tensor, int axis, int offset, int length) {
        if (axis == tensor.rank()) {
            return tensor.boxed(offset);
        }
        int parts = (int) tensor.dim(axis);
        int step = parts == 0 ? 0 : length / parts;
        List<Object> list = new ArrayList<>(parts);
        for (int i = 0; i < parts; i++) {
            list.add(nest(tensor, axis + 1, offset + i * step, step));
        }
        return list;
    }

    /** KServe v1's model list, {@code GET /v1/models}. */
    public record ModelList(List<String> models) {
    }

    /**
     * TF Serving's model status, with KServe v1's {@code name} and {@code ready} beside it, and the
     * drift of the served traffic when the drift watch is on.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ModelStatus(String name, boolean ready, @JsonProperty("model_version_status") List<VersionStatus> versions,
            io.microkernel.drift.DriftReport drift) {
    }

    public record VersionStatus(String version, String state, Status status) {

        /** The active version is AVAILABLE; the others are retained on disk, not loaded: END. */
        static VersionStatus of(ModelVersion v, OptionalInt active) {
            boolean isActive = active.isPresent() && active.getAsInt() == v.version();
            return new VersionStatus(Integer.toString(v.version()), isActive ? "AVAILABLE" : "END", new Status("OK", ""));
        }
    }

    public record Status(@JsonProperty("error_code") String errorCode, @JsonProperty("error_message") String errorMessage) {
    }

    /** TF Serving's status of one version, with the version's lineage as extra fields. */
    public record VersionStatusWithLineage(@JsonProperty("model_version_status") List<VersionStatus> versions,
            @JsonUnwrapped VersionInfo lineage) {
    }

    /** TF Serving's model metadata: the signature def of {@code serving_default}. */
    public record Metadata(@JsonProperty("model_spec") Map<String, String> modelSpec, Map<String, Object> metadata) {

        static Metadata of(String model, int version, ModelSignature signature) {
            Map<String, Object> def = new LinkedHashMap<>();
            def.put("inputs", tensorInfos(signature.inputs()));
            def.put("outputs", tensorInfos(signature.outputs()));
            def.put("method_name", "tensorflow/serving/predict");
            Map<String, Object> defs = Map.of("signature_def", Map.of(SERVING_DEFAULT, def));
            Map<String, String> spec = new LinkedHashMap<>();
            spec.put("name", model);
            spec.put("signature_name", "");
            spec.put("version", Integer.toString(version));
            return new Metadata(spec, Map.of("signature_def", defs));
        }

        private static Map<String, Object> tensorInfos(List<TensorSpec> specs) {
            Map<String, Object> infos = new LinkedHashMap<>();
            for (TensorSpec spec : specs) {
                List<Map<String, String>> dims = spec.shape().stream().map(d -> Map.of("size", Long.toString(d), "name", "")).toList();
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("dtype", spec.dtype().tfName());
                info.put("tensor_shape", Map.of("dim", dims, "unknown_rank", false));
                info.put("name", spec.name());
                infos.put(spec.name(), info);
            }
            return infos;
        }
    }

    /** A version with its lineage, metrics, file hashes and creation time. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record VersionInfo(
            int version,
            boolean active,
            Integer parent,
            @JsonProperty("round_id") String roundId,
            long samples,
            Map<String, Double> metrics,
            List<String> classes,
            @JsonProperty("sha256") Map<String, String> fileHashes,
            String created) {

        static VersionInfo of(ModelVersion v, boolean active) {
            return new VersionInfo(v.version(), active, v.lineage().parentVersion(), v.lineage().roundId(),
                    v.lineage().sampleCount(), v.lineage().metrics(), v.classNames(), v.fileHashes(), v.created().toString());
        }
    }

    public record VersionList(String model, Integer active, List<VersionInfo> versions) {
    }

    public record Activation(String model, int active, Integer previous) {
    }
}

package io.microkernel.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.microkernel.serving.Classification;
import io.microkernel.serving.Prediction;
import io.microkernel.store.ModelVersion;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Request and response bodies of the TF Serving / KServe v1 row API and the version endpoints. */
public final class V1 {

    private V1() {
    }

    /**
     * {@code {"instances":[...]}}; {@code inputs} (the columnar form) is recognised only to explain it
     * is not supported. Each instance is kept as tokens, streamed into tensors once the version that
     * answers is known.
     */
    public record PredictRequest(
            @JsonDeserialize(using = BoundedRows.Instances.class) @Schema(type = SchemaType.ARRAY) List<TokenBuffer> instances,
            @Schema(type = SchemaType.OBJECT) TokenBuffer inputs,
            @JsonProperty("signature_name") String signatureName) {
    }

    /**
     * {@code {"predictions":[...]}}: per row, the output's value for single-output models, an object
     * by output name for several outputs, and for classifiers {@code {"class", "class_index", "scores"}}.
     */
    public record PredictResponse(List<Object> predictions, @JsonProperty("model_version") String modelVersion) {

        static PredictResponse of(Prediction prediction) {
            List<NamedTensor> outputs = prediction.outputs();
            int rows = outputs.isEmpty() ? 1 : outputs.get(0).tensor().batchSize();
            List<Object> predictions = new ArrayList<>(rows);
            for (int row = 0; row < rows; row++) {
                if (prediction.isClassification()) {
                    Classification c = prediction.classifications().get(row);
                    Map<String, Object> answer = new LinkedHashMap<>();
                    answer.put("class", c.className());
                    answer.put("class_index", c.index());
                    answer.put("scores", c.scores());
                    if (outputs.size() > 1) {
                        for (NamedTensor output : outputs) {
                            answer.put(output.name(), row(output, row));
                        }
                    }
                    predictions.add(answer);
                } else if (outputs.size() == 1) {
                    predictions.add(row(outputs.get(0), row));
                } else {
                    Map<String, Object> answer = new LinkedHashMap<>();
                    for (NamedTensor output : outputs) {
                        answer.put(output.name(), row(output, row));
                    }
                    predictions.add(answer);
                }
            }
            return new PredictResponse(predictions, Integer.toString(prediction.version()));
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

        private static Object nest(Tensor tensor, int axis, int offset, int length) {
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
    }

    /** TF Serving's model status. */
    public record ModelStatus(@JsonProperty("model_version_status") List<VersionStatus> versions) {
    }

    public record VersionStatus(String version, String state, Status status) {
    }

    public record Status(@JsonProperty("error_code") String errorCode, @JsonProperty("error_message") String errorMessage) {
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

package io.microkernel.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** ONNX Runtime thread counts, given to the service and to the in-process baselines alike. */
record ThreadCounts(int servingIntraOp, int servingInterOp, int trainingIntraOp) {

    Map<String, String> serviceProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("microkernel.serving.intra-op-threads", Integer.toString(servingIntraOp));
        properties.put("microkernel.serving.inter-op-threads", Integer.toString(servingInterOp));
        properties.put("microkernel.training.threads", Integer.toString(trainingIntraOp));
        return properties;
    }

    Map<String, Object> asJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("serving_intra_op", servingIntraOp);
        json.put("serving_inter_op", servingInterOp);
        json.put("training_intra_op", trainingIntraOp);
        return json;
    }
}

package io.microkernel.compiler;

import io.microkernel.artifacts.ArtifactSet;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.artifacts.TrainingGraphNames;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.microkernel.artifacts.checkpoint.Checkpoint;
import io.microkernel.artifacts.checkpoint.CheckpointTensor;
import io.microkernel.artifacts.Onnx;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares the gradients a training graph computes with central finite differences of the eval graph's
 * loss.
 *
 * <p>The analytic side runs a copy of {@code training_model.onnx} whose gradient tensors (the second
 * input of each {@code InPlaceAccumulatorV2}) are added as graph outputs; the numeric side perturbs one
 * parameter element at a time and runs {@code eval_model.onnx}. Both run in plain ONNX Runtime sessions
 * with every parameter fed as an input, so the checkpoint values are exactly those the training API uses.
 */
final class GradientCheck implements AutoCloseable {

    /** One compared element. */
    record Element(String parameter, int index, double analytic, double numeric) {
        double error() {
            return Math.abs(analytic - numeric);
        }
    }

    private final OrtEnvironment env;
    private final OrtSession.SessionOptions options;
    private final OrtSession train;
    private final OrtSession eval;
    private final Map<String, String> gradientOf = new LinkedHashMap<>();
    private final Map<String, CheckpointTensor> parameters = new LinkedHashMap<>();
    private final List<String> userInputs;
    private final String label;

    GradientCheck(OrtEnvironment env, ArtifactSet set) throws OrtException {
        this.env = env;
        ModelProto training = Onnx.read(set.trainingModel());
        GraphProto.Builder g = training.getGraph().toBuilder();
        for (NodeProto n : training.getGraph().getNodeList()) {
            if (n.getOpType().equals("InPlaceAccumulatorV2")) {
                String buffer = n.getInput(0);
                String parameter = buffer.substring(0, buffer.length() - TrainingGraphNames.GRAD_BUFFER_SUFFIX.length());
                gradientOf.put(parameter, n.getInput(1));
                g.addOutput(ValueInfoProto.newBuilder().setName(n.getInput(1)));
            }
        }
        Checkpoint checkpoint = Checkpoint.read(set.checkpoint());
        checkpoint.parameters().forEach(p -> parameters.put(p.name(), p));
        userInputs = set.description().inputs().stream().map(TensorSpec::name).toList();
        label = set.description().label().name();
        options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        train = env.createSession(training.toBuilder().setGraph(g).build().toByteArray(), options);
        eval = env.createSession(set.evalModel().toString(), options);
    }

    Map<String, String> gradientNames() {
        return gradientOf;
    }

    /** Every element of every trainable parameter: analytic gradient next to the central difference. */
    List<Element> compare(Map<String, OnnxTensor> data, double epsilon) throws OrtException {
        Map<String, float[]> analytic = new LinkedHashMap<>();
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>(data);
            for (CheckpointTensor p : parameters.values()) {
                OnnxTensor t = tensor(p.floats(), p.dims());
                owned.add(t);
                feed.put(p.name(), t);
            }
            for (String p : gradientOf.keySet()) {
                OnnxTensor zeros = tensor(new float[(int) parameters.get(p).elementCount()], parameters.get(p).dims());
                owned.add(zeros);
                feed.put(p + TrainingGraphNames.GRAD_BUFFER_SUFFIX, zeros);
            }
            OnnxTensor reset = OnnxTensor.createTensor(env, new boolean[] {true});
            owned.add(reset);
            feed.put(TrainingGraphNames.LAZY_RESET_GRAD, reset);
            try (OrtSession.Result r = train.run(feed, java.util.Set.copyOf(gradientOf.values()))) {
                for (Map.Entry<String, String> e : gradientOf.entrySet()) {
                    OnnxTensor grad = (OnnxTensor) r.get(e.getValue()).orElseThrow();
                    FloatBuffer b = grad.getFloatBuffer();
                    float[] v = new float[b.remaining()];
                    b.get(v);
                    analytic.put(e.getKey(), v);
                }
            }
        } finally {
            owned.forEach(OnnxTensor::close);
        }
        List<Element> out = new ArrayList<>();
        for (String p : gradientOf.keySet()) {
            float[] base = parameters.get(p).floats();
            for (int i = 0; i < base.length; i++) {
                float[] plus = base.clone();
                plus[i] += (float) epsilon;
                float[] minus = base.clone();
                minus[i] -= (float) epsilon;
                double lossPlus = evalLoss(data, p, plus);
                double lossMinus = evalLoss(data, p, minus);
                double h = (double) plus[i] - (double) minus[i];
                out.add(new Element(p, i, analytic.get(p)[i], (lossPlus - lossMinus) / h));
            }
        }
        return out;
    }

    /** The eval graph's loss with one parameter replaced. */
    double evalLoss(Map<String, OnnxTensor> data, String replaced, float[] values) throws OrtException {
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (String name : userInputs) {
                feed.put(name, data.get(name));
            }
            feed.put(label, data.get(label));
            for (CheckpointTensor p : parameters.values()) {
                OnnxTensor t = tensor(p.name().equals(replaced) ? values : p.floats(), p.dims());
                owned.add(t);
                feed.put(p.name(), t);
            }
            try (OrtSession.Result r = eval.run(feed)) {
                return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
            }
        } finally {
            owned.forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor tensor(float[] values, long[] dims) throws OrtException {
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(values), dims);
    }

    @Override
    public void close() throws OrtException {
        train.close();
        eval.close();
        options.close();
    }
}

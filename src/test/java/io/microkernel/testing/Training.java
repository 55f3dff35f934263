package io.microkernel.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test helpers that drive ONNX Runtime's training API the way the service does. */
public final class Training {

    private Training() {
    }

    public static OrtSession.SessionOptions singleThreaded() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        return options;
    }

    /** Full-batch steps on one input and its labels; returns the loss of every step. */
    public static List<Float> steps(OrtEnvironment env, OrtTrainingSession session, Object x, Object y, int count)
            throws OrtException {
        List<Float> losses = new ArrayList<>();
        for (int step = 0; step < count; step++) {
            try (OnnxTensor input = OnnxTensor.createTensor(env, x); OnnxTensor labels = OnnxTensor.createTensor(env, y)) {
                try (OrtSession.Result r = session.trainStep(feed(session.getTrainInputNames().iterator(), input, labels))) {
                    losses.add(scalar(r));
                }
                session.optimizerStep();
                session.lazyResetGrad();
            }
        }
        return losses;
    }

    /** One eval step; returns the loss. */
    public static float evalLoss(OrtEnvironment env, OrtTrainingSession session, Object x, Object y) throws OrtException {
        try (OnnxTensor input = OnnxTensor.createTensor(env, x); OnnxTensor labels = OnnxTensor.createTensor(env, y);
                OrtSession.Result r = session.evalStep(feed(session.getEvalInputNames().iterator(), input, labels))) {
            return scalar(r);
        }
    }

    /** One eval step; returns the second eval output (the model's own output) as rows. */
    public static float[][] evalOutput(OrtEnvironment env, OrtTrainingSession session, float[][] x, long[] y)
            throws OrtException {
        try (OnnxTensor input = OnnxTensor.createTensor(env, x); OnnxTensor labels = OnnxTensor.createTensor(env, y);
                OrtSession.Result r = session.evalStep(feed(session.getEvalInputNames().iterator(), input, labels))) {
            return (float[][]) r.get(1).getValue();
        }
    }

    /** The inputs in the session's order: {@code trainStep} binds by position, not by name. */
    private static Map<String, OnnxTensor> feed(Iterator<String> names, OnnxTensor input, OnnxTensor labels) {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        feed.put(names.next(), input);
        feed.put(names.next(), labels);
        return feed;
    }

    private static float scalar(OrtSession.Result r) throws OrtException {
        Object v = r.get(0).getValue();
        return v instanceof Float f ? f : ((float[]) v)[0];
    }

    /** Rows of a plain inference session's first output. */
    public static float[][] infer(OrtEnvironment env, OrtSession session, float[][] x) throws OrtException {
        try (OnnxTensor input = OnnxTensor.createTensor(env, x);
                OrtSession.Result r = session.run(Map.of(session.getInputNames().iterator().next(), input))) {
            return (float[][]) r.get(0).getValue();
        }
    }
}

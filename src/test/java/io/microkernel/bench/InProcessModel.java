package io.microkernel.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.Map;

/**
 * The baseline: an {@link OrtSession} in this JVM, with the thread counts the service is given.
 *
 * <p>{@link #run} may be called from several threads at once, as {@code OrtSession.run} allows.
 */
final class InProcessModel implements AutoCloseable {

    private final OrtEnvironment env;
    private final OrtSession session;

    InProcessModel(OrtEnvironment env, byte[] model, ThreadCounts threads) throws OrtException {
        this.env = env;
        try (OrtSession.SessionOptions options = sessionOptions(threads.servingIntraOp(), threads.servingInterOp())) {
            this.session = env.createSession(model, options);
        }
    }

    /** The options the service's serving sessions use, so the baseline differs from it only by HTTP. */
    static OrtSession.SessionOptions sessionOptions(int intraOp, int interOp) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(intraOp);
            options.setInterOpNumThreads(interOp);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.addConfigEntry("session.inter_op.allow_spinning", "0");
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    Map<String, NodeInfo> inputInfo() throws OrtException {
        return session.getInputInfo();
    }

    Map<String, NodeInfo> outputInfo() throws OrtException {
        return session.getOutputInfo();
    }

    /**
     * One inference with fresh tensors, reading the first output back into Java as the service must
     * before it can answer.
     */
    void run(ModelInputs inputs) throws OrtException {
        try (TensorBatch batch = new TensorBatch(inputs.createTensors(env));
                OrtSession.Result result = session.run(batch.tensors())) {
            if (result.get(0).getValue() == null) {
                throw new IllegalStateException("the model returned no first output");
            }
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}

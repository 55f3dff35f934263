package io.microkernel.runtime;

import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/** What every caller of ONNX Runtime sessions needs alike: options with explicit threads, and scalar results. */
public final class OrtSessions {

    private OrtSessions() {
    }

    /**
     * Session options with explicit thread counts: ORT's default pool takes every core, and serving
     * and training share the cores. The caller owns (and closes) the options.
     */
    public static OrtSession.SessionOptions options(int intraOpThreads, int interOpThreads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(interOpThreads);
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    /**
     * A scalar output (a loss) as a double, whether ORT hands it over as a float, a double or a
     * one-element array.
     *
     * @param what names the graph in the message when the output is not a scalar
     */
    public static double scalar(OnnxValue value, String what) throws OrtException {
        Object v = value.getValue();
        if (v instanceof Float f) {
            return f;
        }
        if (v instanceof Double d) {
            return d;
        }
        if (v instanceof float[] a && a.length > 0) {
            return a[0];
        }
        if (v instanceof double[] a && a.length > 0) {
            return a[0];
        }
        throw new IllegalStateException("expected a scalar loss from the " + what + ", found " + value.getInfo());
    }
}

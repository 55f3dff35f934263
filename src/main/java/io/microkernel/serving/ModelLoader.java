package io.microkernel.serving;

import io.microkernel.runtime.OrtSessions;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.NamedTensor;
import io.microkernel.tensor.Tensor;
import io.microkernel.tensor.TensorSpec;
import io.microkernel.store.ModelVersion;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Builds a {@link LoadedModel} from a stored version: a session with the serving thread settings
 * and device, its signature, and one warm-up run on a real input so the first request does not
 * pay for ORT's lazy initialisation.
 *
 * <p>Thread-safe; loading is independent per call.
 */
public final class ModelLoader {

    private static final Logger LOG = Logger.getLogger(ModelLoader.class);

    private final Supplier<OrtEnvironment> environment;
    private final SessionSettings settings;
    private final BufferPool outputBuffers;

    /** @param environment the process's one ORT environment, looked up at load time (it starts late) */
    public ModelLoader(Supplier<OrtEnvironment> environment, SessionSettings settings) {
        this(environment, settings, BufferPool.NONE);
    }

    /** Like the above; the models it loads copy their outputs into buffers of {@code outputBuffers}. */
    public ModelLoader(Supplier<OrtEnvironment> environment, SessionSettings settings, BufferPool outputBuffers) {
        this.environment = environment;
        this.settings = settings;
        this.outputBuffers = outputBuffers;
    }

    public SessionSettings settings() {
        return settings;
    }

    /**
     * Loads and warms a version. The result holds one reference, owned by the caller.
     *
     * @throws ModelLoadException with cause and remedy when the session cannot be built or warmed
     */
    public LoadedModel load(ModelVersion version) {
        OrtEnvironment env = environment.get();
        OrtSession.SessionOptions options = sessionOptions();
        OrtSession session = null;
        try {
            long started = System.nanoTime();
            session = env.createSession(version.inferenceModel().toString(), options);
            ModelSignature signature = signature(version, session);
            LoadedModel model = new LoadedModel(version, signature, env, session, options, outputBuffers);
            long created = System.nanoTime();
            warm(model);
            LOG.debugf("version %d: session created in %d ms, warm-up run in %d ms", version.version(),
                    (created - started) / 1_000_000, (System.nanoTime() - created) / 1_000_000);
            return model;
        } catch (OrtException e) {
            closeQuietly(session, options);
            throw new ModelLoadException("cannot load version " + version.version() + " from " + version.inferenceModel()
                    + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(session, options);
            throw e instanceof ModelLoadException ? e : new ModelLoadException(
                    "version " + version.version() + " failed its warm-up run: " + e.getMessage(), e);
        }
    }

    private OrtSession.SessionOptions sessionOptions() {
        OrtSession.SessionOptions options;
        try {
            options = OrtSessions.options(settings.intraOpThreads(), settings.interOpThreads());
        } catch (OrtException e) {
            throw new ModelLoadException("cannot configure a serving session: " + e.getMessage(), e);
        }
        try {
            // Spinning pool threads burn the cores a training round needs; wake on demand instead.
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.addConfigEntry("session.inter_op.allow_spinning", "0");
            options.setCPUArenaAllocator(settings.cpuArena());
            options.setMemoryPatternOptimization(settings.memoryPattern());
            if (settings.device() == Device.CUDA) {
                addCuda(options);
            }
            return options;
        } catch (OrtException e) {
            options.close();
            throw new ModelLoadException("cannot configure a serving session: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            options.close();
            throw e;
        }
    }

    private void addCuda(OrtSession.SessionOptions options) throws OrtException {
        EnumSet<OrtProvider> providers = OrtEnvironment.getAvailableProviders();
        String remedy = "; remedy: build with -Pcuda (the GPU native library) and run where the CUDA 13 and cuDNN 9"
                + " libraries are on the loader path, or set microkernel.device=cpu";
        if (!providers.contains(OrtProvider.CUDA)) {
            throw new ModelLoadException("microkernel.device=cuda: expected the CUDA execution provider, found only "
                    + providers + remedy);
        }
        try {
            options.addCUDA(settings.deviceId());
        } catch (OrtException e) {
            throw new ModelLoadException("microkernel.device=cuda, device-id " + settings.deviceId()
                    + ": the CUDA execution provider did not start: " + e.getMessage() + remedy, e);
        }
    }

    private static ModelSignature signature(ModelVersion version, OrtSession session) throws OrtException {
        List<TensorSpec> inputs = specs("input", session.getInputInfo());
        List<TensorSpec> outputs = specs("output", session.getOutputInfo());
        Optional<String> scores = Optional.empty();
        if (!version.classNames().isEmpty()) {
            String wanted = version.inferenceOutput() != null ? version.inferenceOutput()
                    : outputs.size() == 1 ? outputs.get(0).name() : null;
            scores = outputs.stream().map(TensorSpec::name).filter(n -> n.equals(wanted)).findFirst();
        }
        return new ModelSignature(inputs, outputs, version.classNames(), scores);
    }

    private static List<TensorSpec> specs(String kind, Map<String, NodeInfo> infos) {
        List<TensorSpec> specs = new ArrayList<>(infos.size());
        for (NodeInfo node : infos.values()) {
            if (!(node.getInfo() instanceof TensorInfo tensor)) {
                throw new ModelLoadException(kind + " '" + node.getName() + "': expected a tensor, found " + node.getInfo());
            }
            OnnxJavaType type = tensor.type;
            DType dtype = DType.fromJavaType(type).orElseThrow(() -> new ModelLoadException(kind + " '" + node.getName()
                    + "': expected one of " + DType.oipNames() + ", found " + tensor.onnxType));
            specs.add(new TensorSpec(node.getName(), dtype, Arrays.stream(tensor.getShape()).map(d -> d < 0 ? -1 : d).boxed().toList()));
        }
        return specs;
    }

    /** One run on zeros of the declared shapes, dynamic dimensions set to 1. */
    private static void warm(LoadedModel model) {
        List<NamedTensor> inputs = model.signature().inputs().stream().map(ModelLoader::zeros).toList();
        model.run(inputs);
    }

    private static NamedTensor zeros(TensorSpec spec) {
        long[] shape = spec.shape().stream().mapToLong(d -> d < 0 ? 1 : d).toArray();
        return new NamedTensor(spec.name(), Tensor.zeros(spec.dtype(), shape));
    }

    private static void closeQuietly(OrtSession session, OrtSession.SessionOptions options) {
        try {
            if (session != null) {
                session.close();
            }
        } catch (OrtException ignored) {
            // The session never served; nothing else holds it.
        } finally {
            options.close();
        }
    }
}

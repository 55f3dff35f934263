package io.microkernel.bench;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * How much of a training step is spent re-running the frozen backbone, measured in-process with
 * ONNX Runtime: the backbone forward alone (the inference graph cut at the head's input) against
 * the full step ({@code trainStep} + {@code optimizerStep} + {@code lazyResetGrad}), same batch,
 * same thread count, alternating so both see the same machine.
 */
final class BackboneShare {

    private static final String GRADIENT_BUFFER_SUFFIX = "_grad.accumulation.buffer";

    private BackboneShare() {
    }

    record Figures(int batch, int steps, int backboneNodes, int headNodes, List<String> cutTensors,
            double trainStepMs, double backboneForwardMs, double fullForwardMs) {

        double backboneShare() {
            return backboneForwardMs / trainStepMs;
        }

        double samplesPerSecond() {
            return batch * 1_000.0 / trainStepMs;
        }

        Map<String, Object> asJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("batch", batch);
            json.put("steps_timed", steps);
            json.put("backbone_nodes", backboneNodes);
            json.put("head_nodes", headNodes);
            json.put("cut_at", cutTensors);
            json.put("train_step_median_ms", Latencies.round(trainStepMs));
            json.put("backbone_forward_median_ms", Latencies.round(backboneForwardMs));
            json.put("full_forward_median_ms", Latencies.round(fullForwardMs));
            json.put("backbone_share_of_train_step", Latencies.round(backboneShare()));
            json.put("inprocess_train_samples_per_s", Math.round(samplesPerSecond()));
            return json;
        }
    }

    static Figures measure(OrtEnvironment env, Path artifacts, Path inferenceModel, int batch, int steps,
            int threads, Path workDir) throws IOException, OrtException {
        OnnxMl.ModelProto training = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(artifacts.resolve("training_model.onnx")));
        Set<String> trainable = new LinkedHashSet<>();
        Map<String, OnnxMl.ValueInfoProto> trainingInputs = new LinkedHashMap<>();
        for (OnnxMl.ValueInfoProto input : training.getGraph().getInputList()) {
            trainingInputs.put(input.getName(), input);
            if (input.getName().endsWith(GRADIENT_BUFFER_SUFFIX)) {
                trainable.add(input.getName().substring(0, input.getName().length() - GRADIENT_BUFFER_SUFFIX.length()));
            }
        }
        OnnxMl.ModelProto inference = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(inferenceModel));
        BackboneCut.Cut cut = BackboneCut.cut(inference, trainable);

        // The session must not touch the shipped checkpoint.
        Path checkpoint = workDir.resolve("backbone-share-checkpoint");
        Files.createDirectories(workDir);
        Files.copy(artifacts.resolve("checkpoint"), checkpoint, StandardCopyOption.REPLACE_EXISTING);

        try (OrtSession.SessionOptions trainOptions = InProcessModel.sessionOptions(threads, 1);
                OrtSession.SessionOptions forwardOptions = InProcessModel.sessionOptions(threads, 1);
                OrtTrainingSession trainer = env.createTrainingSession(checkpoint.toString(),
                        artifacts.resolve("training_model.onnx").toString(),
                        artifacts.resolve("eval_model.onnx").toString(),
                        artifacts.resolve("optimizer_model.onnx").toString(), trainOptions);
                OrtSession full = env.createSession(inference.toByteArray(), forwardOptions);
                OrtSession backbone = cut.backbone() == null ? null
                        : env.createSession(cut.backbone().toByteArray(), forwardOptions)) {
            ModelInputs inputs = ModelInputs.forSession(full.getInputInfo(), batch, 7);
            List<String> trainInputNames = new ArrayList<>(trainer.getTrainInputNames());
            String labelName = trainInputNames.get(trainInputNames.size() - 1);
            int classes = classCount(full);

            double[] stepMs = new double[steps];
            double[] backboneMs = new double[steps];
            double[] fullMs = new double[steps];
            int warmUp = Math.max(3, steps / 10);
            for (int i = -warmUp; i < steps; i++) {
                long start = System.nanoTime();
                trainStep(env, trainer, trainInputNames, inputs, labelName, trainingInputs.get(labelName), classes, i);
                long afterStep = System.nanoTime();
                if (backbone != null) {
                    forward(env, backbone, inputs);
                }
                long afterBackbone = System.nanoTime();
                forward(env, full, inputs);
                long afterFull = System.nanoTime();
                if (i >= 0) {
                    stepMs[i] = (afterStep - start) / 1e6;
                    backboneMs[i] = (afterBackbone - afterStep) / 1e6;
                    fullMs[i] = (afterFull - afterBackbone) / 1e6;
                }
            }
            return new Figures(batch, steps, cut.backboneNodes(), cut.headNodes(), cut.cutTensors(),
                    median(stepMs), median(backboneMs), median(fullMs));
        } finally {
            Files.deleteIfExists(checkpoint);
        }
    }

    private static void trainStep(OrtEnvironment env, OrtTrainingSession trainer, List<String> trainInputNames,
            ModelInputs inputs, String labelName, OnnxMl.ValueInfoProto labelInfo, int classes, int seed)
            throws OrtException {
        // trainStep binds inputs by position, so the map follows getTrainInputNames().
        try (TensorBatch features = new TensorBatch(inputs.createTensors(env));
                OnnxTensor labels = labels(env, labelInfo, inputs.batch(), classes, seed)) {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (String name : trainInputNames) {
                feed.put(name, name.equals(labelName) ? labels : features.tensors().get(name));
            }
            if (feed.containsValue(null)) {
                throw new IllegalStateException("training inputs " + trainInputNames + " do not match the inference inputs "
                        + features.tensors().keySet());
            }
            try (OrtSession.Result loss = trainer.trainStep(feed)) {
                if (loss.size() == 0) {
                    throw new IllegalStateException("trainStep returned no loss");
                }
            }
            trainer.optimizerStep();
            trainer.lazyResetGrad();
        }
    }

    private static OnnxTensor labels(OrtEnvironment env, OnnxMl.ValueInfoProto labelInfo, int batch, int classes, int seed)
            throws OrtException {
        Random random = new Random(seed);
        int elementType = labelInfo.getType().getTensorType().getElemType();
        if (elementType == OnnxMl.TensorProto.DataType.INT64_VALUE) {
            long[] values = new long[batch];
            for (int i = 0; i < batch; i++) {
                values[i] = random.nextInt(classes);
            }
            return OnnxTensor.createTensor(env, LongBuffer.wrap(values), new long[] {batch});
        }
        List<OnnxMl.TensorShapeProto.Dimension> dims = labelInfo.getType().getTensorType().getShape().getDimList();
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = i == 0 || !dims.get(i).hasDimValue() ? (i == 0 ? batch : 1) : dims.get(i).getDimValue();
        }
        float[] values = new float[(int) ModelInputs.elements(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat();
        }
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
    }

    private static void forward(OrtEnvironment env, OrtSession session, ModelInputs inputs) throws OrtException {
        try (TensorBatch batch = new TensorBatch(inputs.createTensors(env))) {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>(batch.tensors());
            feed.keySet().retainAll(session.getInputNames());
            forward(session, feed);
        }
    }

    private static void forward(OrtSession session, Map<String, OnnxTensor> feed) throws OrtException {
        try (OrtSession.Result result = session.run(feed)) {
            if (result.size() == 0) {
                throw new IllegalStateException("the forward pass returned nothing");
            }
        }
    }

    /** Classes of a classifier: the last dimension of its first output. */
    static int classCount(OrtSession session) throws OrtException {
        TensorInfo output = (TensorInfo) session.getOutputInfo().values().iterator().next().getInfo();
        long[] shape = output.getShape();
        return (int) Math.max(1, shape[shape.length - 1]);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}

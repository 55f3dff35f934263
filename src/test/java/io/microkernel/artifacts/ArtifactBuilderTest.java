package io.microkernel.artifacts;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtTrainingSession;
import io.microkernel.runtime.OrtRuntime;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactBuilderTest {

    @TempDir
    Path dir;

    private final OrtEnvironment env = OrtRuntime.get().environment();

    @Test
    void builtClassifierTrainsInOnnxRuntime() throws Exception {
        ArtifactSet set = ArtifactBuilder.fromModel(TinyModels.classifier(1))
                .trainablePattern(java.util.regex.Pattern.compile("head\\..*"))
                .classNames(List.of("a", "b", "c"))
                .build(dir.resolve("set"));
        ArtifactDescription d = set.description();
        assertThat(d.loss()).isEqualTo(LossKind.CROSS_ENTROPY);
        assertThat(d.inferenceOutput()).isEqualTo("probabilities");
        assertThat(d.numClasses()).isEqualTo(3);
        assertThat(d.trainable()).extracting(ParameterSpec::name).containsExactly("head.weight", "head.bias");

        float[][] x = TinyModels.dataset(64, 4, 7);
        long[] y = TinyModels.labels(x);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtTrainingSession session = set.openTrainingSession(env, set.checkpoint(), options)) {
                session.setLearningRate(0.05f);
                float first = 0;
                float last = 0;
                for (int step = 0; step < 60; step++) {
                    try (OnnxTensor input = OnnxTensor.createTensor(env, x);
                            OnnxTensor labels = OnnxTensor.createTensor(env, y)) {
                        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
                        List<String> names = List.copyOf(session.getTrainInputNames());
                        feed.put(names.get(0), input);
                        feed.put(names.get(1), labels);
                        try (OrtSession.Result r = session.trainStep(feed)) {
                            float loss = ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
                            if (step == 0) {
                                first = loss;
                            }
                            last = loss;
                        }
                        session.optimizerStep();
                        session.lazyResetGrad();
                    }
                }
                System.out.println("loss " + first + " -> " + last);
                assertThat(last).isLessThan(first * 0.7f);
            }
        }
    }
}

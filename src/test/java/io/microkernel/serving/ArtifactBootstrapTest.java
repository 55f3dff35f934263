package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.testing.TinyModels;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.store.ModelStore;
import io.microkernel.store.ModelVersion;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactBootstrapTest {

    @TempDir
    Path temp;

    @Test
    void versionOneIsTheExportedInferenceModelOfTheArtifactSet() throws Exception {
        Path artifacts = temp.resolve("artifacts");
        ArtifactBuilder.fromModel(TinyModels.classifier(3))
                .trainablePattern(Pattern.compile("head\\..*"))
                .classNames(List.of("red", "green", "blue"))
                .build(OrtRuntime.bundled().environment(), artifacts);
        ModelStore store = ModelStore.open(temp.resolve("store"), 5);

        ModelVersion first = ArtifactBootstrap.bootstrap(store, artifacts, OrtRuntime.bundled().environment());

        assertThat(first.version()).isEqualTo(1);
        assertThat(first.classNames()).containsExactly("red", "green", "blue");
        assertThat(first.inferenceOutput()).isEqualTo("probabilities");
        assertThat(store.baseDir().resolve("training_model.onnx")).exists();
        try (ServedModel served = new ServedModel("default", store,
                new ModelLoader(() -> OrtRuntime.bundled().environment(), SessionSettings.cpu(1, 1)),
                new ServingMetrics(new SimpleMeterRegistry(), "default"))) {
            served.start();
            var row = io.microkernel.testing.TensorValues.tokens("[0.1, 0.2, 0.3, 0.4]");
            Prediction prediction = served.predict(OptionalInt.empty(),
                    signature -> new RequestTranslator(8).fromInstances(signature.inputs(), List.of(row)));
            assertThat(prediction.version()).isEqualTo(1);
            assertThat(prediction.classifications()).singleElement()
                    .satisfies(c -> assertThat(List.of("red", "green", "blue")).contains(c.className()));
        }
        assertThatThrownBy(() -> ArtifactBootstrap.bootstrap(store, artifacts, OrtRuntime.bundled().environment()))
                .hasMessageContaining("expected an empty store");
    }
}

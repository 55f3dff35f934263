package io.microkernel.api;

import ai.onnx.proto.OnnxMl.ModelProto;
import io.microkernel.compiler.ArtifactBuilder;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.testing.TinyModels;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An empty data dir and a tiny classifier artifact set (input [-1,4], classes a, b, c; frozen
 * backbone, trainable head) to bootstrap it from, so start-up goes through the real bootstrap.
 * Arguments given by a profile become configuration overrides; a subclass may serve another model.
 */
public class TinyClassifierResource implements QuarkusTestResourceLifecycleManager {

    private final Map<String, String> extra = new HashMap<>();

    @Override
    public void init(Map<String, String> initArgs) {
        extra.putAll(initArgs);
    }

    @Override
    public Map<String, String> start() {
        try {
            Path root = Files.createTempDirectory("microkernel-training-api");
            Path artifacts = root.resolve("artifacts");
            ArtifactBuilder.fromModel(model())
                    .trainablePattern(Pattern.compile("head\\..*"))
                    .classNames(List.of("a", "b", "c"))
                    .build(OrtRuntime.start(Optional.empty()).environment(), artifacts);
            Map<String, String> config = new HashMap<>();
            config.put("microkernel.data-dir", root.resolve("data").toString());
            config.put("microkernel.model.artifacts", artifacts.toString());
            config.put("microkernel.training.epochs", "8");
            config.put("microkernel.training.learning-rate", "0.05");
            config.put("microkernel.training.learning-rate-decay", "0.9");
            config.putAll(extra);
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The inference model the artifact set is built from. */
    protected ModelProto model() {
        return TinyModels.classifier(1);
    }

    @Override
    public void stop() {
        // The temp folder is small and left for inspection.
    }
}

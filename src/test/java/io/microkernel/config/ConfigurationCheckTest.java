package io.microkernel.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.problem.ConfigurationException;
import io.microkernel.problem.ProblemType;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigurationCheckTest {

    private static MicrokernelConfig config(Map<String, String> values) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(MicrokernelConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withConverter(MemorySize.class, 200, new MemorySizeConverter())
                .withSources(new PropertiesConfigSource(values, "test", 500))
                .build();
        return config.getConfigMapping(MicrokernelConfig.class);
    }

    @Test
    void theDefaultsPass() {
        assertThat(ConfigurationCheck.problems(config(Map.of()))).isEmpty();
    }

    @Test
    void aMaxBatchBelowOneIsAConfigurationErrorNamingThePropertyNotABadRequest() {
        List<ConfigurationException> problems = ConfigurationCheck.problems(config(Map.of("microkernel.serving.max-batch", "0")));

        assertThat(problems).singleElement().satisfies(e -> {
            assertThat(e.property()).isEqualTo("microkernel.serving.max-batch");
            assertThat(e.getMessage()).isEqualTo("microkernel.serving.max-batch: expected at least 1, found 0");
            assertThat(e.type()).isEqualTo(ProblemType.CONFIGURATION);
            assertThat(e.status()).isGreaterThanOrEqualTo(500);
        });
    }

    @Test
    void everyBadValueIsReportedWithWhatWasExpectedAndFound() {
        List<ConfigurationException> problems = ConfigurationCheck.problems(config(Map.of(
                "microkernel.device", "gpu",
                "microkernel.store.retain", "0",
                "microkernel.training.holdout-fraction", "1.5",
                "microkernel.training.gate.max-regression", "-0.1",
                "microkernel.model.name", "../etc")));

        assertThat(problems).extracting(ConfigurationException::property).containsExactly(
                "microkernel.model.name", "microkernel.device", "microkernel.store.retain",
                "microkernel.training.holdout-fraction", "microkernel.training.gate.max-regression");
        assertThat(problems).extracting(Throwable::getMessage).contains(
                "microkernel.device: expected cpu or cuda, found 'gpu'",
                "microkernel.training.holdout-fraction: expected a number in [0, 1), found 1.5");
    }

    @Test
    void closingTheLoopsKeysAreCheckedToo() {
        List<ConfigurationException> problems = ConfigurationCheck.problems(config(Map.of(
                "microkernel.feedback.sampling-rate", "0",
                "microkernel.training.reference.max-drop", "-1",
                "microkernel.drift.threshold", "0",
                "microkernel.drift.window", "0")));

        assertThat(problems).extracting(ConfigurationException::property).containsExactly(
                "microkernel.feedback.sampling-rate", "microkernel.training.reference.max-drop",
                "microkernel.drift.window", "microkernel.drift.threshold");
        assertThat(problems).extracting(Throwable::getMessage)
                .contains("microkernel.feedback.sampling-rate: expected a share in (0, 1], found 0.0");
    }

    @Test
    void aRoundsWaitForServingMustBeAboveZeroAndAtMostOneSecond() {
        for (String bad : List.of("0s", "2s")) {
            assertThat(ConfigurationCheck.problems(config(Map.of("microkernel.training.round-priority.yield-max-wait", bad))))
                    .singleElement().satisfies(e -> assertThat(e.getMessage()).startsWith(
                            "microkernel.training.round-priority.yield-max-wait: expected a duration above 0 and at most 1s"));
        }
        assertThat(ConfigurationCheck.problems(config(Map.of("microkernel.training.round-priority.yield-max-wait", "20ms",
                "microkernel.training.round-priority.yield-to-serving", "false")))).isEmpty();
    }
}

package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InferenceInFlightTest {

    @Test
    void countsInferencePathsOfBothProtocolsAndNothingElse() {
        assertThat(InferenceInFlight.isInferencePath("/v2/models/default/infer")).isTrue();
        assertThat(InferenceInFlight.isInferencePath("/v2/models/default/versions/3/infer")).isTrue();
        assertThat(InferenceInFlight.isInferencePath("/v1/models/default:predict")).isTrue();
        assertThat(InferenceInFlight.isInferencePath("/v1/models/default%3Aclassify")).isTrue();

        assertThat(InferenceInFlight.isInferencePath("/v2/models/default/samples")).isFalse();
        assertThat(InferenceInFlight.isInferencePath("/v2/models/default/rounds")).isFalse();
        assertThat(InferenceInFlight.isInferencePath("/v1/models/default")).isFalse();
        assertThat(InferenceInFlight.isInferencePath("/v2/health/ready")).isFalse();
    }
}

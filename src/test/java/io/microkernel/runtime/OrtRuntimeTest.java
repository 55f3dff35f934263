package io.microkernel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class OrtRuntimeTest {

    @Test
    void loadsTrainingEnabledNativeOfTheSameVersion() {
        OrtRuntime runtime = OrtRuntime.start(Optional.empty());
        assertThat(runtime.environment().getVersion()).isEqualTo(OrtRuntime.expectedVersion());
        assertThat(runtime.environment().isTrainingEnabled()).isTrue();
        assertThat(runtime.library().getFileName().toString()).isEqualTo(NativeLibrary.CORE_LIBRARY);
    }
}

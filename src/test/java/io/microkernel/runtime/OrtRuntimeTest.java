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

    /** ORT's closer would release the environment beside the application's own shutdown (issue 10, defect 1). */
    @Test
    void ortsOwnShutdownHookIsGoneOnceTheRuntimeStarted() throws Exception {
        OrtRuntime.start(Optional.empty());
        assertThat(OrtShutdownHook.registered()).as("ONNX Runtime's environment closer is a shutdown hook").isFalse();
    }
}

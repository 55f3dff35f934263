package io.microkernel.api;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/** Test profiles over {@link TinyClassifierResource}. */
public final class TrainingProfiles {

    private TrainingProfiles() {
    }

    /** Loopback trusted, no token, a roomy buffer. */
    public static class Open implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TinyClassifierResource.class));
        }
    }

    /** As {@link Open}, over the two-input classifier of {@link TwoInputClassifierResource}. */
    public static class TwoInputs implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TwoInputClassifierResource.class));
        }
    }

    /**
     * The test client is treated like a remote one (loopback not trusted): every mutating call and,
     * with inference protected, every inference needs the token {@value #TOKEN}; the buffer holds 10
     * samples.
     */
    public static class Guarded implements QuarkusTestProfile {
        public static final String TOKEN = "training-test-token";

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TinyClassifierResource.class, Map.of(
                    "microkernel.api.token", TOKEN,
                    "microkernel.api.trust-loopback", "false",
                    "microkernel.api.protect-inference", "true",
                    "microkernel.training.buffer.max-samples", "10",
                    "microkernel.training.buffer.retry-after", "45s")));
        }
    }
}

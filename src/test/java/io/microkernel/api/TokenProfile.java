package io.microkernel.api;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/**
 * The test client connects over loopback; with loopback not trusted it is treated like any remote
 * client, so the token rule can be exercised over real HTTP.
 */
public class TokenProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("microkernel.api.token", "s3cret",
                "microkernel.api.trust-loopback", "false",
                "microkernel.api.protect-inference", "true");
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(StoreResource.class));
    }
}

package io.microkernel.api;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** An empty data dir and no artifact set to bootstrap from: the service runs but serves nothing. */
public class NotReadyProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        String dir = System.getProperty("java.io.tmpdir") + "/microkernel-not-ready-" + ProcessHandle.current().pid();
        return Map.of("microkernel.data-dir", dir, "microkernel.model.artifacts", dir + "/missing-artifacts");
    }
}

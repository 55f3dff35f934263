package io.microkernel.api;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;

/** The application over the {@link StoreResource} store, loopback trusted, no token. */
public class StoreProfile implements QuarkusTestProfile {

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(StoreResource.class));
    }
}

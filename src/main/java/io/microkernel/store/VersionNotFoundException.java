package io.microkernel.store;

import java.util.Collection;

/** A version number that the store does not hold (never published, or removed by retention). */
public class VersionNotFoundException extends StoreException {

    private final int version;

    public VersionNotFoundException(int version, Collection<Integer> retained) {
        super("version " + version + " not found: expected one of " + retained + ", found " + version);
        this.version = version;
    }

    public int version() {
        return version;
    }
}

package io.microkernel.fleet;

import java.util.Optional;

/**
 * Whether this process runs in fleet mode, and its fleet when it does. Immutable.
 *
 * @param fleet the fleet; empty in single-node mode (no {@code microkernel.fleet.nats-url})
 */
public record FleetMode(Optional<Fleet> fleet) {

    public boolean enabled() {
        return fleet.isPresent();
    }
}

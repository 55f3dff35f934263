package io.microkernel.fleet;

/**
 * Fleet mode of one model: the connection and every shared part made from it. Built once per
 * process when {@code microkernel.fleet.nats-url} is set; the parts talk to NATS only when used.
 *
 * <p>Thread-safe. {@link #close()} is safe to call twice.
 */
public final class Fleet implements AutoCloseable {

    private final FleetConnection connection;
    private final SampleStream samples;
    private final TrainerLease lease;
    private final ActivePointer pointer;
    private final VersionBucket versions;
    private final RoundBoard rounds;
    private final ReplicaRegistry replicas;

    private Fleet(FleetConnection connection) {
        this.connection = connection;
        this.samples = new SampleStream(connection);
        this.lease = new TrainerLease(connection);
        this.pointer = new ActivePointer(connection);
        this.versions = new VersionBucket(connection);
        this.rounds = new RoundBoard(connection);
        this.replicas = new ReplicaRegistry(connection);
    }

    /** Connects (in the background when NATS is down) and builds the parts. */
    public static Fleet open(FleetSettings settings) {
        return new Fleet(FleetConnection.open(settings));
    }

    public FleetSettings settings() {
        return connection.settings();
    }

    public FleetConnection connection() {
        return connection;
    }

    public SampleStream samples() {
        return samples;
    }

    public TrainerLease lease() {
        return lease;
    }

    public ActivePointer pointer() {
        return pointer;
    }

    public VersionBucket versions() {
        return versions;
    }

    public RoundBoard rounds() {
        return rounds;
    }

    public ReplicaRegistry replicas() {
        return replicas;
    }

    /** Leaves the replica registry, gives the lease up, stops watching and closes the connection. */
    @Override
    public void close() {
        replicas.close();
        lease.close();
        rounds.close();
        pointer.close();
        connection.close();
    }
}

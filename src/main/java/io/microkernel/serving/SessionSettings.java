package io.microkernel.serving;

/**
 * How serving sessions are built: explicit thread counts (so a training round on the same cores
 * does not fight ORT's default all-cores pool) and the execution device.
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, Device device, int deviceId) {

    public SessionSettings {
        if (intraOpThreads < 1 || interOpThreads < 1) {
            throw new IllegalArgumentException("microkernel.serving.intra-op-threads and inter-op-threads: expected at least 1, found "
                    + intraOpThreads + " and " + interOpThreads);
        }
    }

    public static SessionSettings cpu(int intraOpThreads, int interOpThreads) {
        return new SessionSettings(intraOpThreads, interOpThreads, Device.CPU, 0);
    }
}

package io.microkernel.serving;

/**
 * How serving sessions are built: explicit thread counts (so a training round on the same cores
 * does not fight ORT's default all-cores pool), the execution device, and ORT's memory options:
 * {@code cpuArena} keeps freed tensor memory in ORT's arena for reuse (faster, but the arena only
 * grows), {@code memoryPattern} pre-plans one allocation per input shape (faster for fixed shapes,
 * more memory when shapes vary).
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, Device device, int deviceId,
        boolean cpuArena, boolean memoryPattern) {

    public SessionSettings {
        if (intraOpThreads < 1 || interOpThreads < 1) {
            throw new IllegalArgumentException("microkernel.serving.intra-op-threads and inter-op-threads: expected at least 1, found "
                    + intraOpThreads + " and " + interOpThreads);
        }
    }

    /** ORT's memory options as ORT defaults them: arena and memory patterns on. */
    public SessionSettings(int intraOpThreads, int interOpThreads, Device device, int deviceId) {
        this(intraOpThreads, interOpThreads, device, deviceId, true, true);
    }

    public static SessionSettings cpu(int intraOpThreads, int interOpThreads) {
        return new SessionSettings(intraOpThreads, interOpThreads, Device.CPU, 0);
    }
}

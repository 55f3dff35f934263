package io.microkernel.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers kept for reuse, so a request's tensors do not each cost a native allocation, its
 * zeroing and a cleaner for the garbage collector to run. Buffers come in size classes (powers of
 * two from {@value #SMALLEST} bytes up to the largest buffer the pool keeps); a tensor of {@code n}
 * bytes takes a buffer of the smallest class that holds it and uses its first {@code n} bytes.
 *
 * <p>Bounded: the idle buffers together hold at most {@code maxIdleBytes}; a buffer given back
 * beyond that, or one larger than the largest class, is dropped to the garbage collector, as every
 * buffer was before there was a pool. The pool only holds idle buffers, so a tensor that is never
 * given back costs nothing but a later allocation.
 *
 * <p>Ownership: {@link Tensor#recycle()} is the only way back in, and only the tensor's owner
 * calls it, once nothing reads the tensor any more; a buffer comes back at most once.
 *
 * <p>Thread-safe: each size class is a stack under its own short lock.
 */
public final class BufferPool {

    static final int SMALLEST = 64;

    /** A pool that keeps nothing: every tensor allocates its own buffer. */
    public static final BufferPool NONE = new BufferPool(0, 0);

    private final long maxIdleBytes;
    private final int largest;
    /** Idle buffers by class: index {@code i} holds buffers of {@code SMALLEST << i} bytes. */
    private final ArrayDeque<ByteBuffer>[] idle;
    private final AtomicLong idleBytes = new AtomicLong();
    private final AtomicLong allocated = new AtomicLong();
    private final AtomicLong reused = new AtomicLong();

    /**
     * @param maxIdleBytes the most bytes idle buffers may hold together; 0 keeps none
     * @param largestBuffer the largest buffer kept, rounded up to a power of two; larger tensors allocate as without a pool
     */
    @SuppressWarnings("unchecked")
    public BufferPool(long maxIdleBytes, int largestBuffer) {
        if (maxIdleBytes < 0 || largestBuffer < 0 || largestBuffer > (1 << 30)) {
            throw new IllegalArgumentException("expected idle bytes >= 0 and a largest buffer of 0 to 2^30 bytes, found "
                    + maxIdleBytes + " and " + largestBuffer);
        }
        this.maxIdleBytes = maxIdleBytes;
        int classes = maxIdleBytes == 0 || largestBuffer == 0 ? 0 : classOf(largestBuffer) + 1;
        this.largest = classes == 0 ? 0 : SMALLEST << (classes - 1);
        this.idle = new ArrayDeque[classes];
        for (int i = 0; i < classes; i++) {
            idle[i] = new ArrayDeque<>();
        }
    }

    /** The size class index of a buffer of {@code bytes}: the smallest power of two (at least {@link #SMALLEST}) holding it. */
    private static int classOf(int bytes) {
        int size = Math.max(SMALLEST, bytes);
        int power = 32 - Integer.numberOfLeadingZeros(size - 1);
        return power - Integer.numberOfTrailingZeros(SMALLEST);
    }

    /** Whether a tensor of {@code bytes} would take its buffer from this pool. */
    boolean pools(long bytes) {
        return bytes > 0 && bytes <= largest;
    }

    /**
     * A buffer of at least {@code bytes}, native order, position 0, limit its capacity: an idle one of
     * the right class, or a new one. Its contents are whatever its last user left; the caller
     * overwrites what it uses.
     */
    ByteBuffer take(int bytes) {
        if (!pools(bytes)) {
            return allocateOwn(bytes);
        }
        int index = classOf(bytes);
        ArrayDeque<ByteBuffer> stack = idle[index];
        ByteBuffer buffer;
        synchronized (stack) {
            buffer = stack.pollLast();
        }
        if (buffer == null) {
            allocated.incrementAndGet();
            return ByteBuffer.allocateDirect(SMALLEST << index).order(ByteOrder.nativeOrder());
        }
        idleBytes.addAndGet(-buffer.capacity());
        reused.incrementAndGet();
        return buffer.clear();
    }

    /** A buffer of exactly {@code bytes} that is not the pool's (counted among {@link #allocated()}). */
    ByteBuffer allocateOwn(long bytes) {
        if (this != NONE) {
            allocated.incrementAndGet();
        }
        return Tensor.allocate(bytes);
    }

    /** Keeps a buffer {@link #take} handed out for the next taker, unless the pool is full or it is not of a class. */
    void give(ByteBuffer buffer) {
        int capacity = buffer.capacity();
        if (!pools(capacity) || Integer.bitCount(capacity) != 1 || capacity < SMALLEST) {
            return;
        }
        if (idleBytes.addAndGet(capacity) > maxIdleBytes) {
            idleBytes.addAndGet(-capacity);
            return;
        }
        ArrayDeque<ByteBuffer> stack = idle[classOf(capacity)];
        synchronized (stack) {
            stack.addLast(buffer);
        }
    }

    /** Bytes the idle buffers hold now. */
    public long idleBytes() {
        return idleBytes.get();
    }

    /** Buffers allocated since start, because none of the class was idle or the tensor was too large to pool. */
    public long allocated() {
        return allocated.get();
    }

    /** Buffers handed out again since start. */
    public long reused() {
        return reused.get();
    }

    @Override
    public String toString() {
        return "BufferPool[idle " + idleBytes() + " of " + maxIdleBytes + " bytes, largest buffer " + largest + "]";
    }
}

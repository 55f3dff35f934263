package io.microkernel.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Tensors on borrowed buffers: reuse, the bound on idle bytes, one return per buffer, and no buffer shared by two live tensors. */
class BufferPoolTest {

    private static ByteBuffer floats(float... values) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put(values);
        return bytes;
    }

    private static float[] read(Tensor tensor) {
        float[] out = new float[tensor.elementCount()];
        tensor.floats().get(out);
        return out;
    }

    @Test
    void aRecycledBufferIsTheNextTensorOfItsClass() {
        BufferPool pool = new BufferPool(1 << 20, 1 << 16);
        Tensor first = Tensor.copyOf(DType.FLOAT, new long[] {256}, floats(new float[256]), pool);
        assertThat(pool.allocated()).isEqualTo(1);

        assertThat(first.recycle()).isTrue();
        assertThat(pool.idleBytes()).isEqualTo(1024);
        Tensor second = Tensor.copyOf(DType.FLOAT, new long[] {2, 128}, floats(new float[256]), pool);

        assertThat(pool.allocated()).isEqualTo(1);
        assertThat(pool.reused()).isEqualTo(1);
        assertThat(pool.idleBytes()).isZero();
        assertThat(second.shape()).containsExactly(2, 128);
    }

    @Test
    void aTensorSmallerThanItsClassSeesOnlyItsOwnElementsEvenOnAReusedBuffer() {
        BufferPool pool = new BufferPool(1 << 20, 1 << 16);
        Tensor big = Tensor.copyOf(DType.FLOAT, new long[] {16}, floats(9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9), pool);
        big.recycle();

        Tensor six = Tensor.copyOf(DType.FLOAT, new long[] {6}, floats(1, 2, 3, 4, 5, 6), pool);

        assertThat(pool.reused()).as("16 and 6 floats share the 64-byte class").isEqualTo(1);
        assertThat(six.elementCount()).isEqualTo(6);
        assertThat(six.bytes().capacity()).isEqualTo(24);
        assertThat(read(six)).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(six).isEqualTo(Tensor.ofFloats(new long[] {6}, 1, 2, 3, 4, 5, 6));
        assertThat(six.toBytes(ByteOrder.LITTLE_ENDIAN)).hasSize(24);
    }

    @Test
    void aBuilderFillsABorrowedBufferAndRecyclesIt() {
        BufferPool pool = new BufferPool(1 << 20, 1 << 16);
        Tensor.Builder builder = Tensor.builder(DType.INT64, pool, 3);
        builder.addLong(7).addLong(-1).addLong(Long.MAX_VALUE);
        Tensor built = builder.build();

        assertThat(built.longs().get(2)).isEqualTo(Long.MAX_VALUE);
        assertThat(built.recycle()).isTrue();
        assertThat(pool.idleBytes()).isEqualTo(64);
    }

    @Test
    void aBufferComesBackOnceAndTheTensorIsDeadAfterwards() {
        BufferPool pool = new BufferPool(1 << 20, 1 << 16);
        Tensor tensor = Tensor.copyOf(DType.FLOAT, new long[] {4}, floats(1, 2, 3, 4), pool);

        assertThat(tensor.recycle()).isTrue();
        assertThat(tensor.recycle()).isFalse();

        assertThat(pool.idleBytes()).isEqualTo(64);
        assertThatThrownBy(() -> tensor.getDouble(0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("recycled");
        assertThatThrownBy(tensor::bytes).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Tensor.concat(java.util.List.of(tensor))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> tensor.row(0)).isInstanceOf(IllegalStateException.class);
        // Two takers after one return: the second must get a buffer of its own, not the same one again.
        Tensor a = Tensor.copyOf(DType.FLOAT, new long[] {4}, floats(5, 6, 7, 8), pool);
        Tensor b = Tensor.copyOf(DType.FLOAT, new long[] {4}, floats(9, 10, 11, 12), pool);
        assertThat(read(a)).containsExactly(5, 6, 7, 8);
        assertThat(read(b)).containsExactly(9, 10, 11, 12);
        assertThat(pool.allocated()).isEqualTo(2);
    }

    @Test
    void tensorsThatOwnTheirBufferHaveNothingToRecycle() {
        Tensor own = Tensor.ofFloats(new long[] {2}, 1, 2);
        Tensor noPool = Tensor.copyOf(DType.FLOAT, new long[] {2}, floats(1, 2), BufferPool.NONE);

        assertThat(own.recycle()).isFalse();
        assertThat(noPool.recycle()).isFalse();
        assertThat(read(own)).containsExactly(1, 2);
        assertThat(read(noPool)).containsExactly(1, 2);
    }

    @Test
    void idleBuffersNeverHoldMoreThanTheBoundAndLargeTensorsAreNotPooled() {
        BufferPool pool = new BufferPool(2048, 4096);
        List<Tensor> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            three.add(Tensor.copyOf(DType.FLOAT, new long[] {256}, floats(new float[256]), pool));
        }
        three.forEach(Tensor::recycle);
        assertThat(pool.idleBytes()).as("two 1 KB buffers fit in 2 KB; the third is dropped").isEqualTo(2048);

        Tensor large = Tensor.copyOf(DType.FLOAT, new long[] {2048}, floats(new float[2048]), pool);
        assertThat(large.recycle()).as("8 KB is over the largest buffer of 4 KB").isFalse();
        assertThat(pool.idleBytes()).isEqualTo(2048);
        assertThat(pool.allocated()).isEqualTo(4);
    }

    @Test
    void aPoolThatKeepsNothingAllocatesEveryTime() {
        BufferPool pool = new BufferPool(0, 0);
        for (int i = 0; i < 3; i++) {
            assertThat(Tensor.copyOf(DType.FLOAT, new long[] {4}, floats(1, 2, 3, 4), pool).recycle()).isFalse();
        }
        assertThat(pool.allocated()).isEqualTo(3);
        assertThat(pool.reused()).isZero();
        assertThat(pool.idleBytes()).isZero();
    }

    @Test
    void concurrentTakersNeverShareABuffer() throws Exception {
        BufferPool pool = new BufferPool(1 << 16, 1 << 12);
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                float mark = t;
                done.add(executor.submit(() -> {
                    start.await();
                    int checked = 0;
                    for (int i = 0; i < 2000; i++) {
                        float[] values = new float[1 + i % 40];
                        java.util.Arrays.fill(values, mark * 10_000 + i);
                        Tensor mine = Tensor.copyOf(DType.FLOAT, new long[] {values.length}, floats(values), pool);
                        Thread.yield();
                        // Another thread writing into this buffer while it is out would show here.
                        assertThat(read(mine)).containsOnly(mark * 10_000 + i);
                        mine.recycle();
                        checked++;
                    }
                    return checked;
                }));
            }
            start.countDown();
            for (Future<Integer> f : done) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(2000);
            }
        } finally {
            executor.shutdownNow();
        }
        assertThat(pool.reused()).isPositive();
        assertThat(pool.allocated() + pool.reused()).isEqualTo(8 * 2000);
        assertThat(pool.idleBytes()).isLessThanOrEqualTo(1 << 16);
    }
}

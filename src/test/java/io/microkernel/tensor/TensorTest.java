package io.microkernel.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.microkernel.runtime.OrtRuntime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorTest {

    private static final long[] TWO = {2};

    private static OrtEnvironment env() {
        return OrtRuntime.bundled().environment();
    }

    @Test
    void everyTypeKeepsItsValuesExactly() {
        Tensor f = Tensor.ofFloats(new long[] {2, 2}, 1.5f, Float.MIN_VALUE, -3f, Float.MAX_VALUE);
        Tensor d = Tensor.ofDoubles(TWO, Math.PI, -0.0);
        Tensor i = Tensor.ofInts(new long[] {3}, Integer.MIN_VALUE, 0, Integer.MAX_VALUE);
        Tensor l = Tensor.ofLongs(TWO, Long.MAX_VALUE, 9007199254740993L);
        Tensor b = Tensor.ofBooleans(TWO, true, false);

        assertThat(f.getDouble(1)).isEqualTo(Float.MIN_VALUE);
        assertThat(f.boxed(3)).isEqualTo(Float.MAX_VALUE);
        assertThat(f.rowAsDoubles(1)).containsExactly(-3.0, Float.MAX_VALUE);
        assertThat(d.getDouble(0)).isEqualTo(Math.PI);
        assertThat(i.getLong(0)).isEqualTo(Integer.MIN_VALUE);
        assertThat(i.boxed(2)).isEqualTo(Integer.MAX_VALUE);
        // Through a double the second long would round to ...992: longs are read as longs.
        assertThat(l.getLong(1)).isEqualTo(9007199254740993L);
        assertThat(b.boxed(0)).isEqualTo(true);
        assertThat(b.getLong(1)).isZero();
        assertThat(List.of(f, d, i, l, b)).extracting(t -> t.bytes().capacity() / t.elementCount())
                .containsExactly(4, 8, 4, 8, 1);
    }

    @Test
    void viewsAreDirectNativeAndReadOnly() {
        Tensor t = Tensor.ofFloats(TWO, 1f, 2f);
        FloatBuffer view = t.floats();

        assertThat(view.isDirect()).isTrue();
        assertThat(view.order()).isEqualTo(ByteOrder.nativeOrder());
        assertThat(view.get(1)).isEqualTo(2f);
        assertThatThrownBy(() -> view.put(0, 9f)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(t.getDouble(0)).isEqualTo(1.0);
        assertThatThrownBy(t::longs).isInstanceOf(IllegalStateException.class).hasMessageContaining("expected a INT64 tensor");
    }

    @Test
    void theOrtTensorIsTheTensorsOwnMemory() throws OrtException {
        List<Tensor> tensors = List.of(Tensor.ofFloats(TWO, 1f, 2f), Tensor.ofDoubles(TWO, 0.25, 4),
                Tensor.ofInts(TWO, -1, 7), Tensor.ofLongs(TWO, Long.MIN_VALUE, 3), Tensor.ofBooleans(TWO, false, true));
        for (Tensor tensor : tensors) {
            try (OnnxTensor onnx = tensor.toOnnx(env())) {
                // ORT copies a heap buffer into one it owns; a direct one it uses as it is.
                assertThat(onnx.ownsBuffer()).as(tensor.toString()).isFalse();
                assertThat(onnx.getBufferRef()).isPresent();
                assertThat(onnx.getBufferRef().get().isDirect()).isTrue();
                assertThat(onnx.getInfo().getShape()).containsExactly(2);
                assertThat(Tensor.copyOf(onnx)).isEqualTo(tensor);
            }
        }
    }

    @Test
    void copiesAnOrtOutputOutOfNativeMemory() throws OrtException {
        Tensor copy;
        try (OnnxTensor onnx = OnnxTensor.createTensor(env(), new float[][] {{1f, 2f, 3f}, {4f, 5f, 6f}})) {
            copy = Tensor.copyOf(onnx);
        }
        assertThat(copy.dtype()).isEqualTo(DType.FLOAT);
        assertThat(copy.shape()).containsExactly(2, 3);
        assertThat(copy.rowAsDoubles(1)).containsExactly(4, 5, 6);
        assertThat(copy.bytes().isDirect()).isTrue();
    }

    @Test
    void joinsBatchesAlongTheFirstDimensionAndCutsRowRangesBack() {
        Tensor a = Tensor.ofFloats(new long[] {1, 2}, 1, 2);
        Tensor b = Tensor.ofFloats(new long[] {2, 2}, 3, 4, 5, 6);

        Tensor joined = Tensor.concat(List.of(a, b));

        assertThat(joined.shape()).containsExactly(3, 2);
        assertThat(joined.rows(0, 1)).isEqualTo(a);
        assertThat(joined.rows(1, 3)).isEqualTo(b);
        assertThat(joined.rows(2, 2).shape()).containsExactly(0, 2);
        assertThatThrownBy(() -> Tensor.concat(List.of(a, Tensor.ofFloats(new long[] {1, 3}, 1, 2, 3))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tensor 1: expected rows like");
        assertThatThrownBy(() -> Tensor.concat(List.of(a, Tensor.ofDoubles(new long[] {1, 2}, 1, 2))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> joined.rows(2, 4)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void stacksRowsAndSlicesThemBack() {
        Tensor a = Tensor.ofLongs(new long[] {1, 2}, 1, 2);
        Tensor b = Tensor.ofLongs(new long[] {1, 2}, 3, 4);

        Tensor batch = Tensor.stack(List.of(a, b));

        assertThat(batch.shape()).containsExactly(2, 1, 2);
        assertThat(batch.batchSize()).isEqualTo(2);
        assertThat(batch.rowLength()).isEqualTo(2);
        assertThat(batch.getLong(2)).isEqualTo(3);
        assertThat(batch.row(1)).isEqualTo(b).isNotEqualTo(a);
        assertThatThrownBy(() -> Tensor.stack(List.of(a, Tensor.ofLongs(TWO, 5, 6))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tensor 1: expected INT64[1,2]");
        assertThatThrownBy(() -> Tensor.stack(List.of(a, Tensor.ofInts(new long[] {1, 2}, 5, 6))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void equalityIsTypeShapeAndContent() {
        Tensor t = Tensor.ofFloats(TWO, 1f, 2f);

        assertThat(t).isEqualTo(Tensor.ofFloats(TWO, 1f, 2f)).hasSameHashCodeAs(Tensor.ofFloats(TWO, 1f, 2f));
        assertThat(t).isNotEqualTo(Tensor.ofFloats(new long[] {1, 2}, 1f, 2f));
        assertThat(t).isNotEqualTo(Tensor.ofFloats(TWO, 1f, 3f));
        assertThat(Tensor.ofInts(TWO, 0, 0)).isNotEqualTo(Tensor.ofFloats(TWO, 0f, 0f));
    }

    @Test
    void readsPackedElementsInEitherByteOrder() {
        ByteBuffer bigEndian = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN);
        bigEndian.putLong(Long.MAX_VALUE).putLong(-2).flip();
        ByteBuffer floats = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN);
        floats.putFloat(0.1f).putFloat(-7f).flip();

        assertThat(Tensor.copyOf(DType.INT64, TWO, bigEndian)).isEqualTo(Tensor.ofLongs(TWO, Long.MAX_VALUE, -2));
        assertThat(Tensor.copyOf(DType.FLOAT, TWO, floats)).isEqualTo(Tensor.ofFloats(TWO, 0.1f, -7f));
        assertThatThrownBy(() -> Tensor.copyOf(DType.FLOAT, new long[] {3}, floats.rewind()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expects 12 bytes, found 8");
    }

    @Test
    void theBuilderGrowsWithWhatIsWrittenAndFillsExactly() {
        int n = 200_000;
        Tensor.Builder builder = Tensor.builder(DType.FLOAT, 2, n / 2);
        for (int i = 0; i < n; i++) {
            builder.addDouble(i);
        }
        assertThatThrownBy(() -> builder.addDouble(1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no room");
        Tensor t = builder.build();
        assertThat(t.elementCount()).isEqualTo(n);
        assertThat(t.getDouble(n - 1)).isEqualTo(n - 1);
        assertThat(t.getDouble(65_536)).isEqualTo(65_536);

        Tensor.Builder partial = Tensor.builder(DType.BOOL, 3).addBoolean(true);
        assertThatThrownBy(partial::build).isInstanceOf(IllegalStateException.class).hasMessageContaining("holds 3 elements, found 1");
    }

    @Test
    void aHugeDeclaredShapeCostsOnlyWhatIsWritten() {
        // 1.6 GB if allocated up front; the builder starts small and grows only with writes.
        Tensor.Builder builder = Tensor.builder(DType.DOUBLE, 200_000_000);
        builder.addDouble(1).addDouble(2);
        assertThat(builder.position()).isEqualTo(2);
        assertThat(builder.capacity()).isEqualTo(200_000_000);
    }

    @Test
    void shapesAndScoresHaveOneHelperEach() {
        assertThat(Shapes.elementCount(2, 3, 4)).isEqualTo(24);
        assertThat(Shapes.elementCount()).isEqualTo(1);
        assertThatThrownBy(() -> Shapes.elementCount(-1, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[-1,4]");
        assertThatThrownBy(() -> Shapes.elementCountInt(1 << 20, 1 << 20)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Scores.argmax(new double[] {0.1, 0.7, 0.7})).isEqualTo(1);
        assertThat(Scores.argmax(new double[] {0.1, Double.NaN})).isEqualTo(-1);
    }

    @Test
    void halfPrecisionConvertsExactlyBothWays() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short half = (short) bits;
            float value = DType.halfToFloat(half);
            if (!Float.isNaN(value)) {
                org.assertj.core.api.Assertions.assertThat(DType.floatToHalf(value)).as("bits %04x", bits).isEqualTo(half);
            }
        }
        org.assertj.core.api.Assertions.assertThat(DType.floatToHalf(1.0f)).isEqualTo((short) 0x3c00);
        org.assertj.core.api.Assertions.assertThat(DType.floatToHalf(65504f)).isEqualTo((short) 0x7bff);
        org.assertj.core.api.Assertions.assertThat(DType.floatToHalf(65520f)).isEqualTo((short) 0x7c00);
        org.assertj.core.api.Assertions.assertThat(DType.floatToHalf(1.0009766f)).isEqualTo((short) 0x3c01);
        org.assertj.core.api.Assertions.assertThat(DType.halfToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        org.assertj.core.api.Assertions.assertThat(DType.floatToHalf(1e-9f)).isEqualTo((short) 0);
    }

    @Test
    void narrowTypesPackAndReadBack() {
        Tensor t = Tensor.builder(DType.UINT8, 2).addLong(200).addLong(7).build();
        org.assertj.core.api.Assertions.assertThat(t.getLong(0)).isEqualTo(200);
        org.assertj.core.api.Assertions.assertThat(t.boxed(0)).isEqualTo(200);
        Tensor h = Tensor.builder(DType.FLOAT16, 2).addDouble(1.5).addDouble(-0.25).build();
        org.assertj.core.api.Assertions.assertThat(h.toBytes(java.nio.ByteOrder.LITTLE_ENDIAN)).containsExactly(0x00, 0x3e, 0x00, 0xb4);
        org.assertj.core.api.Assertions.assertThat(h.toBytes(java.nio.ByteOrder.BIG_ENDIAN)).containsExactly(0x3e, 0x00, 0xb4, 0x00);
        Tensor i16 = Tensor.copyOf(DType.INT16, new long[] {2},
                java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xfe, (byte) 0xff, 0x2c, 0x01}).order(java.nio.ByteOrder.LITTLE_ENDIAN));
        org.assertj.core.api.Assertions.assertThat(i16.getLong(0)).isEqualTo(-2);
        org.assertj.core.api.Assertions.assertThat(i16.getLong(1)).isEqualTo(300);
        org.assertj.core.api.Assertions.assertThat(DType.refusal("UINT64")).contains("ONNX Runtime's Java API has no UINT64 tensors");
        org.assertj.core.api.Assertions.assertThat(DType.refusal("FLOAT32")).isEmpty();
        org.assertj.core.api.Assertions.assertThat(DType.fromOipName("FP16")).contains(DType.FLOAT16);
    }

    @Test
    void textTensorsKeepStringsAndWriteThemLengthPrefixed() {
        Tensor t = Tensor.ofStrings(new long[] {2, 2}, "a", "é", "", "zz");

        assertThat(t.dtype()).isEqualTo(DType.STRING);
        assertThat(t.dtype().oipName()).isEqualTo("BYTES");
        assertThat(t.dtype().tfName()).isEqualTo("DT_STRING");
        assertThat(DType.fromOipName("BYTES")).contains(DType.STRING);
        assertThat(DType.refusal("BYTES")).isEmpty();
        assertThat(t.elementCount()).isEqualTo(4);
        assertThat(t.getString(1)).isEqualTo("é");
        assertThat(t.boxed(3)).isEqualTo("zz");
        byte[] little = t.toBytes(ByteOrder.LITTLE_ENDIAN);
        assertThat(little).containsExactly(1, 0, 0, 0, 'a', 2, 0, 0, 0, 0xc3, 0xa9, 0, 0, 0, 0, 2, 0, 0, 0, 'z', 'z');
        assertThat(Tensor.copyOf(DType.STRING, new long[] {2, 2}, ByteBuffer.wrap(little).order(ByteOrder.LITTLE_ENDIAN))).isEqualTo(t);
        byte[] big = t.toBytes(ByteOrder.BIG_ENDIAN);
        assertThat(big[3]).isEqualTo((byte) 1);
        assertThat(Tensor.copyOf(DType.STRING, new long[] {2, 2}, ByteBuffer.wrap(big))).isEqualTo(t);

        assertThat(t.row(1)).isEqualTo(Tensor.ofStrings(new long[] {2}, "", "zz"));
        assertThat(t.rows(0, 1)).isEqualTo(Tensor.ofStrings(new long[] {1, 2}, "a", "é"));
        assertThat(Tensor.concat(List.of(t.rows(0, 1), t.rows(1, 2)))).isEqualTo(t);
        assertThat(Tensor.stack(List.of(t.row(0), t.row(1)))).isEqualTo(t).hasSameHashCodeAs(t);
        assertThat(Tensor.zeros(DType.STRING, 1, 2)).isEqualTo(Tensor.ofStrings(new long[] {1, 2}, "", ""));
        assertThat(Tensor.builder(DType.STRING, 2).addString("x").addString("y").build())
                .isEqualTo(Tensor.ofStrings(TWO, "x", "y"));

        assertThatThrownBy(t::bytes).isInstanceOf(IllegalStateException.class).hasMessageContaining("toBytes");
        assertThatThrownBy(() -> t.getDouble(0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("found BYTES");
        assertThatThrownBy(() -> Tensor.builder(DType.STRING, 1).addDouble(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Tensor.builder(DType.FLOAT, 1).addString("a")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void textTensorsRefuseWhatTheRuntimeWouldNotSeeUnchanged() {
        assertThatThrownBy(() -> Tensor.ofStrings(TWO, "a", "\uD83D\uDE00"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("element 1: expected text without NUL or characters outside the Basic Multilingual Plane")
                .hasMessageContaining("found U+1F600");
        assertThatThrownBy(() -> Tensor.builder(DType.STRING, 1).addString("x\u0000y"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("found U+0000 at character 1");
        ByteBuffer notUtf8 = ByteBuffer.wrap(new byte[] {1, 0, 0, 0, (byte) 0xff}).order(ByteOrder.LITTLE_ENDIAN);
        assertThatThrownBy(() -> Tensor.copyOf(DType.STRING, new long[] {1}, notUtf8))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("element 0: expected UTF-8 text (ONNX Runtime"
                        + " takes BYTES as strings), found bytes that are not UTF-8");
        ByteBuffer overrun = ByteBuffer.wrap(new byte[] {5, 0, 0, 0, 'a'}).order(ByteOrder.LITTLE_ENDIAN);
        assertThatThrownBy(() -> Tensor.copyOf(DType.STRING, new long[] {1}, overrun))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("element 0: expected 5 bytes after its 4-byte length, found 1");
        ByteBuffer short1 = ByteBuffer.wrap(new byte[] {1, 0, 0, 0, 'a', 0, 0}).order(ByteOrder.LITTLE_ENDIAN);
        assertThatThrownBy(() -> Tensor.copyOf(DType.STRING, TWO, short1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("shape [2] expected 2 length-prefixed elements, found 1 and 2 stray bytes");
    }

    @Test
    void textTensorsGoThroughTheRuntimeAndBack() throws OrtException {
        Tensor t = Tensor.ofStrings(new long[] {3, 1}, "a", "é", "");
        try (OnnxTensor native_ = t.toOnnx(env())) {
            assertThat(native_.getInfo().type).isEqualTo(ai.onnxruntime.OnnxJavaType.STRING);
            assertThat(native_.getInfo().getShape()).containsExactly(3, 1);
            assertThat(Tensor.copyOf(native_)).isEqualTo(t);
        }
        Tensor scalar = Tensor.ofStrings(new long[0], "only");
        try (OnnxTensor native_ = scalar.toOnnx(env())) {
            assertThat(Tensor.copyOf(native_)).isEqualTo(scalar);
        }
    }

    @Test
    void bfloat16IsTheUpperHalfOfAFloatRoundedToNearestEven() {
        assertThat(DType.floatToBfloat16(1.5f)).isEqualTo((short) 0x3fc0);
        assertThat(DType.floatToBfloat16(-0.3f)).isEqualTo((short) 0xbe9a);
        assertThat(DType.bfloat16ToFloat((short) 0xbe9a)).isEqualTo(-0.30078125f);
        // Halfway between 0x3f80 and 0x3f81: ties go to the even one.
        assertThat(DType.floatToBfloat16(Float.intBitsToFloat(0x3f808000))).isEqualTo((short) 0x3f80);
        assertThat(DType.floatToBfloat16(Float.intBitsToFloat(0x3f818000))).isEqualTo((short) 0x3f82);
        assertThat(DType.floatToBfloat16(Float.MAX_VALUE)).isEqualTo((short) 0x7f80);
        assertThat(Float.isNaN(DType.bfloat16ToFloat(DType.floatToBfloat16(Float.NaN)))).isTrue();
        assertThat(DType.fromOipName("BF16")).contains(DType.BFLOAT16);
        assertThat(DType.refusal("BF16")).isEmpty();
        assertThat(DType.BFLOAT16.tfName()).isEqualTo("DT_BFLOAT16");
        Tensor t = Tensor.builder(DType.BFLOAT16, 2).addDouble(1.5).addDouble(-0.3).build();
        assertThat(t.toBytes(ByteOrder.LITTLE_ENDIAN)).containsExactly(0xc0, 0x3f, 0x9a, 0xbe);
        assertThat(t.boxed(1)).isEqualTo(-0.30078125f);
    }

    @Test
    void bfloat16TensorsGoThroughTheRuntimeAndBack() throws OrtException {
        Tensor t = Tensor.builder(DType.BFLOAT16, 2).addDouble(1.5).addDouble(-0.3).build();
        try (OnnxTensor native_ = t.toOnnx(env())) {
            assertThat(native_.getInfo().type).isEqualTo(ai.onnxruntime.OnnxJavaType.BFLOAT16);
            assertThat(Tensor.copyOf(native_)).isEqualTo(t);
        }
    }
}

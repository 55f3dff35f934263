package io.microkernel.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.microkernel.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** The journal's record format is on disk: records written before the tensor type changed must still read. */
class SampleCodecTest {

    /** A record written field by field the way the format is specified, independent of the codec. */
    private static byte[] handWrittenPayload() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeLong(42);
        out.writeLong(1_700_000_000_000L);
        out.writeShort(3);
        out.writeUTF("f");
        out.writeByte(1); // FLOAT
        out.writeByte(2);
        out.writeLong(1);
        out.writeLong(2);
        out.writeInt(2);
        out.writeFloat(1.5f);
        out.writeFloat(-0.25f);
        out.writeUTF("l");
        out.writeByte(7); // INT64
        out.writeByte(1);
        out.writeLong(1);
        out.writeInt(1);
        out.writeLong(Long.MIN_VALUE);
        out.writeUTF("b");
        out.writeByte(9); // BOOL
        out.writeByte(1);
        out.writeLong(2);
        out.writeInt(2);
        out.writeByte(1);
        out.writeByte(0);
        out.writeByte(1); // target label
        out.writeByte(1);
        out.writeLong(1);
        out.writeInt(1);
        out.writeFloat(3.5f);
        return bytes.toByteArray();
    }

    private static Sample sample() {
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("f", Tensor.ofFloats(new long[] {1, 2}, 1.5f, -0.25f));
        inputs.put("l", Tensor.ofLongs(new long[] {1}, Long.MIN_VALUE));
        inputs.put("b", Tensor.ofBooleans(new long[] {2}, true, false));
        return new Sample(42, 1_700_000_000_000L, inputs, new SampleLabel.Target(new long[] {1}, new float[] {3.5f}));
    }

    @Test
    void readsARecordOfTheExistingFormat() throws IOException {
        Sample read = SampleCodec.decodePayload(handWrittenPayload());

        assertThat(read).isEqualTo(sample());
        assertThat(read.inputs().keySet()).containsExactly("f", "l", "b");
    }

    @Test
    void writesTheExistingFormatByteForByte() throws IOException {
        byte[] payload = handWrittenPayload();
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer expected = ByteBuffer.allocate(SampleCodec.HEADER_BYTES + payload.length);
        expected.putInt(SampleCodec.MAGIC).putInt(payload.length).putInt((int) crc.getValue()).put(payload);

        assertThat(Arrays.equals(SampleCodec.encode(sample()), expected.array())).isTrue();
    }
}

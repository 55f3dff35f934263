package io.microkernel.training;

import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The journal's record format. A record is {@code magic, payload length, CRC-32 of the payload,
 * payload}; the header lets recovery tell a complete record from a torn one without trusting the
 * payload.
 */
final class SampleCodec {

    static final int MAGIC = 0x534D504C; // "SMPL"
    static final int HEADER_BYTES = 12;
    /** Guards recovery against a garbage length field allocating gigabytes. */
    static final int MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

    private static final byte LABEL_CLASS = 0;
    private static final byte LABEL_TARGET = 1;

    private SampleCodec() {
    }

    /** The complete record (header and payload) of one sample. */
    static byte[] encode(Sample sample) {
        byte[] payload = encodePayload(sample);
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer record = ByteBuffer.allocate(HEADER_BYTES + payload.length).order(ByteOrder.BIG_ENDIAN);
        record.putInt(MAGIC).putInt(payload.length).putInt((int) crc.getValue()).put(payload);
        return record.array();
    }

    private static byte[] encodePayload(Sample sample) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(sample.id());
            out.writeLong(sample.receivedAtMillis());
            out.writeShort(sample.inputs().size());
            for (Map.Entry<String, Tensor> input : sample.inputs().entrySet()) {
                out.writeUTF(input.getKey());
                writeTensor(out, input.getValue());
            }
            if (sample.label() instanceof SampleLabel.ClassIndex c) {
                out.writeByte(LABEL_CLASS);
                out.writeInt(c.index());
            } else if (sample.label() instanceof SampleLabel.Target t) {
                out.writeByte(LABEL_TARGET);
                writeShape(out, t.shape());
                float[] values = t.values();
                out.writeInt(values.length);
                for (float v : values) {
                    out.writeFloat(v);
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("in-memory write failed", e);
        }
    }

    private static void writeTensor(DataOutputStream out, Tensor tensor) throws IOException {
        DType dtype = tensor.dtype();
        out.writeByte(dtype.onnxCode());
        writeShape(out, tensor.shape());
        int n = tensor.elementCount();
        out.writeInt(n);
        // Big-endian, the byte order of the rest of the record, whatever the platform's order.
        ByteBuffer elements = ByteBuffer.allocate(dtype.byteSize() * n).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < n; i++) {
            if (dtype.isFloatingPoint()) {
                dtype.putDouble(elements, i, tensor.getDouble(i));
            } else {
                dtype.putLong(elements, i, tensor.getLong(i));
            }
        }
        out.write(elements.array());
    }

    private static void writeShape(DataOutputStream out, long[] shape) throws IOException {
        out.writeByte(shape.length);
        for (long d : shape) {
            out.writeLong(d);
        }
    }

    /** Decodes a payload whose CRC already matched; a structural error means a bug or a forged record. */
    static Sample decodePayload(byte[] payload) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(payload));
        long id = in.readLong();
        long receivedAt = in.readLong();
        int inputs = in.readUnsignedShort();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < inputs; i++) {
            String name = in.readUTF();
            tensors.put(name, readTensor(in));
        }
        byte kind = in.readByte();
        SampleLabel label;
        if (kind == LABEL_CLASS) {
            label = new SampleLabel.ClassIndex(in.readInt());
        } else if (kind == LABEL_TARGET) {
            long[] shape = readShape(in);
            int n = readCount(in, payload.length);
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = in.readFloat();
            }
            label = new SampleLabel.Target(shape, values);
        } else {
            throw new IOException("unknown label kind " + kind);
        }
        if (in.available() != 0) {
            throw new IOException(in.available() + " unexpected bytes after the label");
        }
        return new Sample(id, receivedAt, tensors, label);
    }

    private static Tensor readTensor(DataInputStream in) throws IOException {
        int code = in.readUnsignedByte();
        DType dtype = DType.fromOnnxCode(code).orElseThrow(() -> new IOException("unknown dtype code " + code));
        long[] shape = readShape(in);
        int n = readCount(in, Integer.MAX_VALUE);
        long bytes = (long) n * dtype.byteSize();
        if (bytes > in.available()) {
            throw new EOFException("element count " + n + " out of range");
        }
        byte[] packed = new byte[(int) bytes];
        in.readFully(packed);
        try {
            return Tensor.copyOf(dtype, shape, ByteBuffer.wrap(packed).order(ByteOrder.BIG_ENDIAN));
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
    }

    private static long[] readShape(DataInputStream in) throws IOException {
        int rank = in.readUnsignedByte();
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readLong();
        }
        return shape;
    }

    private static int readCount(DataInputStream in, int limit) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > limit || n > MAX_PAYLOAD_BYTES) {
            throw new EOFException("element count " + n + " out of range");
        }
        return n;
    }
}

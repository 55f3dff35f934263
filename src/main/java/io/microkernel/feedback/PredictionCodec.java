package io.microkernel.feedback;

import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The prediction log's record format: {@code payload length, CRC-32 of the payload, payload}, so a
 * torn last record (a crash mid-write) is told from a complete one and cut off.
 */
final class PredictionCodec {

    static final int HEADER_BYTES = 8;
    /** Guards recovery against a garbage length allocating gigabytes. */
    static final int MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

    private PredictionCodec() {
    }

    static byte[] encode(LoggedPrediction prediction) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(prediction.id());
            out.writeLong(prediction.atMillis());
            out.writeInt(prediction.version());
            out.writeInt(prediction.rows().size());
            for (Map<String, Tensor> row : prediction.rows()) {
                out.writeShort(row.size());
                for (Map.Entry<String, Tensor> input : row.entrySet()) {
                    out.writeUTF(input.getKey());
                    writeTensor(out, input.getValue());
                }
            }
            out.writeInt(prediction.predicted().size());
            for (int index : prediction.predicted()) {
                out.writeInt(index);
            }
            byte[] payload = bytes.toByteArray();
            CRC32 crc = new CRC32();
            crc.update(payload);
            return ByteBuffer.allocate(HEADER_BYTES + payload.length).putInt(payload.length)
                    .putInt((int) crc.getValue()).put(payload).array();
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
    }

    static LoggedPrediction decode(byte[] payload) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        String id = in.readUTF();
        long at = in.readLong();
        int version = in.readInt();
        int rowCount = count(in.readInt());
        List<Map<String, Tensor>> rows = new ArrayList<>(rowCount);
        for (int r = 0; r < rowCount; r++) {
            int inputs = in.readShort();
            Map<String, Tensor> row = new LinkedHashMap<>();
            for (int i = 0; i < inputs; i++) {
                row.put(in.readUTF(), readTensor(in));
            }
            rows.add(row);
        }
        int predictedCount = count(in.readInt());
        List<Integer> predicted = new ArrayList<>(predictedCount);
        for (int i = 0; i < predictedCount; i++) {
            predicted.add(in.readInt());
        }
        return new LoggedPrediction(id, at, version, rows, predicted);
    }

    /** A whole record as {@link #encode} made it (header and payload), checked against its length and CRC. */
    static LoggedPrediction decodeRecord(byte[] record) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(record);
        if (buffer.remaining() < HEADER_BYTES) {
            throw new IOException("expected a record of at least " + HEADER_BYTES + " bytes, found " + record.length);
        }
        int length = buffer.getInt();
        int crc = buffer.getInt();
        if (length != buffer.remaining()) {
            throw new IOException("expected a payload of " + length + " bytes, found " + buffer.remaining());
        }
        byte[] payload = new byte[length];
        buffer.get(payload);
        if (!checksumMatches(payload, crc)) {
            throw new IOException("the record fails its checksum");
        }
        return decode(payload);
    }

    static boolean checksumMatches(byte[] payload, int expected) {
        CRC32 crc = new CRC32();
        crc.update(payload);
        return (int) crc.getValue() == expected;
    }

    private static void writeTensor(DataOutputStream out, Tensor tensor) throws IOException {
        out.writeUTF(tensor.dtype().name());
        out.writeByte(tensor.rank());
        for (long d : tensor.shape()) {
            out.writeLong(d);
        }
        byte[] data = tensor.toBytes(ByteOrder.LITTLE_ENDIAN);
        out.writeInt(data.length);
        out.write(data);
    }

    private static Tensor readTensor(DataInputStream in) throws IOException {
        DType dtype;
        try {
            dtype = DType.valueOf(in.readUTF());
        } catch (IllegalArgumentException e) {
            throw new IOException("unknown element type: " + e.getMessage(), e);
        }
        int rank = in.readByte();
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readLong();
        }
        byte[] data = new byte[count(in.readInt())];
        in.readFully(data);
        return Tensor.copyOf(dtype, shape, ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN));
    }

    private static int count(int value) throws IOException {
        if (value < 0 || value > MAX_PAYLOAD_BYTES) {
            throw new IOException("expected a count in [0, " + MAX_PAYLOAD_BYTES + "], found " + value);
        }
        return value;
    }
}

package io.microkernel.training;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * A request's {@code Idempotency-Key} in the sample journal: written after the batch's samples, in
 * the same write and fsync, so a key on disk means its whole batch is on disk. It names the batch's
 * ids and a fingerprint of its content (labels and inputs, not ids or times), so a retry with the
 * same key is answered with the first request's ids and a reuse with another body is refused.
 *
 * <p>Record layout: the journal's 12-byte header ({@link #MAGIC}, payload length, CRC-32 of the
 * payload), then key length (2 bytes), key (UTF-8), first id (8), count (4), SHA-256 fingerprint (32).
 * Immutable.
 *
 * @param key         the client's key
 * @param firstId     the id of the batch's first sample
 * @param count       how many samples the batch stored
 * @param fingerprint SHA-256 of the batch's content
 */
record IdempotencyRecord(String key, long firstId, int count, byte[] fingerprint) {

    static final int MAGIC = 0x49444b59; // "IDKY"
    static final int MAX_KEY_LENGTH = 255;

    /** Whether {@code other} is the same content. */
    boolean sameContent(byte[] other) {
        return MessageDigest.isEqual(fingerprint, other);
    }

    byte[] encode() {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        ByteBuffer payload = ByteBuffer.allocate(2 + keyBytes.length + 8 + 4 + fingerprint.length);
        payload.putShort((short) keyBytes.length).put(keyBytes).putLong(firstId).putInt(count).put(fingerprint);
        CRC32 crc = new CRC32();
        crc.update(payload.array());
        ByteBuffer record = ByteBuffer.allocate(SampleCodec.HEADER_BYTES + payload.capacity());
        record.putInt(MAGIC).putInt(payload.capacity()).putInt((int) crc.getValue()).put(payload.array());
        return record.array();
    }

    static IdempotencyRecord decode(byte[] payload) throws IOException {
        try {
            ByteBuffer in = ByteBuffer.wrap(payload);
            byte[] keyBytes = new byte[in.getShort()];
            in.get(keyBytes);
            long firstId = in.getLong();
            int count = in.getInt();
            byte[] fingerprint = new byte[32];
            in.get(fingerprint);
            if (in.hasRemaining()) {
                throw new IOException("expected " + (payload.length - in.remaining()) + " bytes, found " + payload.length);
            }
            return new IdempotencyRecord(new String(keyBytes, StandardCharsets.UTF_8), firstId, count, fingerprint);
        } catch (RuntimeException e) {
            throw new IOException("a key record is malformed: " + e.getMessage(), e);
        }
    }

    /** SHA-256 of the samples' content, independent of the ids and times they get. */
    static byte[] fingerprint(List<LabelledInput> batch) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (LabelledInput input : batch) {
                digest.update(SampleCodec.encode(new Sample(0, 0, input.inputs(), input.label())));
            }
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdempotencyRecord r && key.equals(r.key) && firstId == r.firstId && count == r.count
                && Arrays.equals(fingerprint, r.fingerprint);
    }

    @Override
    public int hashCode() {
        return key.hashCode();
    }

    @Override
    public String toString() {
        return "IdempotencyRecord[" + key + ", " + firstId + ", " + count + "]";
    }
}

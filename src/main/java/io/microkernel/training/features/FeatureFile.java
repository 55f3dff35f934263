package io.microkernel.training.features;

import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One sample's spilled features on disk: a magic number, the tensor count, then per tensor its
 * name, ONNX element type, shape and little-endian bytes. Written beside the target and renamed, so a
 * reader never sees half a file. A cache, not a record: nothing is synced, a torn file is recomputed.
 */
final class FeatureFile {

    static final String SUFFIX = ".features";
    private static final int MAGIC = 0x46454154; // "FEAT"
    private static final int MAX_TENSORS = 1024;
    private static final int MAX_RANK = 32;

    private FeatureFile() {
    }

    static void write(Path file, Map<String, Tensor> features) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(temp)))) {
            out.writeInt(MAGIC);
            out.writeInt(features.size());
            for (Map.Entry<String, Tensor> e : features.entrySet()) {
                Tensor t = e.getValue();
                out.writeUTF(e.getKey());
                out.writeInt(t.dtype().onnxCode());
                out.writeInt(t.shape().length);
                for (long d : t.shape()) {
                    out.writeLong(d);
                }
                byte[] bytes = t.toBytes(ByteOrder.LITTLE_ENDIAN);
                out.writeInt(bytes.length);
                out.write(bytes);
            }
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static Map<String, Tensor> read(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC) {
                throw new IOException("not a feature file");
            }
            int count = bounded(in.readInt(), MAX_TENSORS, "tensor count");
            Map<String, Tensor> features = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                int code = in.readInt();
                DType dtype = DType.fromOnnxCode(code).orElseThrow(() -> new IOException("unknown element type " + code));
                long[] shape = new long[bounded(in.readInt(), MAX_RANK, "rank")];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                }
                byte[] bytes = new byte[bounded(in.readInt(), Integer.MAX_VALUE - 8, "byte count")];
                in.readFully(bytes);
                features.put(name, Tensor.copyOf(dtype, shape, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)));
            }
            return features;
        }
    }

    private static int bounded(int value, int max, String what) throws IOException {
        if (value < 0 || value > max) {
            throw new IOException("expected a " + what + " from 0 to " + max + ", found " + value);
        }
        return value;
    }
}

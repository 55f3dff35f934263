package io.microkernel.artifacts.checkpoint;

import io.microkernel.tensor.Shapes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One tensor of a checkpoint: a parameter or an optimizer moment.
 *
 * <p>The data stays in the checkpoint's little-endian byte layout; {@link #floats()} decodes it.
 * Immutable: the arrays are copied in and out.
 */
public final class CheckpointTensor {

    /** ONNX {@code TensorProto.DataType} of 32-bit floats. */
    public static final int FLOAT = 1;

    private final String name;
    private final long[] dims;
    private final int dataType;
    private final byte[] rawData;
    private final List<String> stringData;

    public CheckpointTensor(String name, long[] dims, int dataType, byte[] rawData, List<String> stringData) {
        this.name = Objects.requireNonNull(name, "name");
        this.dims = dims.clone();
        this.dataType = dataType;
        this.rawData = rawData == null ? new byte[0] : rawData.clone();
        this.stringData = List.copyOf(stringData);
    }

    /** A float tensor with the given shape; {@code values.length} must equal the product of the dims. */
    public static CheckpointTensor ofFloats(String name, long[] dims, float[] values) {
        long count = elementCount(dims);
        if (count != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(dims)
                    + " needs " + count + " values, found " + values.length);
        }
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return new CheckpointTensor(name, dims, FLOAT, buffer.array(), List.of());
    }

    public String name() {
        return name;
    }

    public long[] dims() {
        return dims.clone();
    }

    /** The dims as a list, the way {@code ParameterSpec} holds shapes. */
    public List<Long> shape() {
        return Arrays.stream(dims).boxed().toList();
    }

    /** ONNX {@code TensorProto.DataType} number (1 = float). */
    public int dataType() {
        return dataType;
    }

    public byte[] rawData() {
        return rawData.clone();
    }

    int rawLength() {
        return rawData.length;
    }

    byte[] rawDataUnsafe() {
        return rawData;
    }

    public List<String> stringData() {
        return stringData;
    }

    public long elementCount() {
        return elementCount(dims);
    }

    /** The values of a float tensor. */
    public float[] floats() {
        if (dataType != FLOAT) {
            throw new IllegalStateException("tensor '" + name + "' has data type " + dataType + ", not float");
        }
        float[] values = new float[rawData.length / Float.BYTES];
        ByteBuffer.wrap(rawData).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /** The same name and shape holding other values. */
    public CheckpointTensor withData(float[] values) {
        return ofFloats(name, dims, values);
    }

    static long elementCount(long[] dims) {
        return Shapes.elementCount(dims);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CheckpointTensor t && name.equals(t.name) && Arrays.equals(dims, t.dims)
                && dataType == t.dataType && Arrays.equals(rawData, t.rawData) && stringData.equals(t.stringData);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(dims), dataType, Arrays.hashCode(rawData));
    }

    @Override
    public String toString() {
        return name + Arrays.toString(dims) + " type " + dataType;
    }
}

package io.microkernel.tensor;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One tensor value: element type, concrete shape and the elements in row-major order, packed in a
 * direct buffer of the platform's byte order. That is the layout ONNX Runtime reads, so
 * {@link #toOnnx} hands the very memory to the runtime instead of copying it once more.
 *
 * <p>Text tensors ({@link DType#STRING}, the protocol's BYTES) are the exception: their elements
 * have no fixed size, so they are kept as a {@code String[]}, which is what ONNX Runtime's Java API
 * takes and gives for string tensors ({@code OnnxTensor.createTensor(env, String[], shape)}); they
 * have no packed buffer ({@link #bytes()} throws), and {@link #toBytes} writes them as the protocols
 * carry them: per element a 4-byte length, then its UTF-8 bytes. The Java API hands strings to the
 * runtime as modified UTF-8, which differs from UTF-8 for NUL and for characters outside the Basic
 * Multilingual Plane; text with those is refused when a tensor is built, so a model never sees
 * bytes other than the ones sent.
 *
 * <p>Immutable and thread-safe: nothing writes the buffer (or string array) after construction,
 * and every view handed out is a read-only duplicate. Equality is by type, shape and elements.
 *
 * <p>A tensor built with a {@link BufferPool} ({@link #copyOf(DType, long[], ByteBuffer, BufferPool)},
 * {@link #builder(DType, BufferPool, long...)}) borrows its buffer from the pool. Whoever built it
 * owns it: that code, and only it, calls {@link #recycle()} once nothing reads the tensor any more
 * (no ONNX Runtime tensor over its buffer, no answer still to be written from it, no observer that
 * kept it). From then on the tensor refuses to be read. A tensor that is never recycled is simply
 * collected, as every tensor is.
 */
public final class Tensor {

    private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<Tensor> RECYCLED =
            java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(Tensor.class, "recycled");

    private final DType dtype;
    private final long[] shape;
    /** The packed elements; null for a text tensor. */
    private final ByteBuffer data;
    /** The elements of a text tensor; null otherwise. */
    private final String[] strings;
    /** The pool {@link #borrowed} goes back to on {@link #recycle()}; null for a tensor that owns its buffer. */
    private final BufferPool pool;
    /** The pool's buffer {@code data} is the start of; null when not borrowed. */
    private final ByteBuffer borrowed;
    /** 1 once {@link #recycle()} gave the buffer back. */
    private volatile int recycled;

    /** A text tensor; takes ownership of {@code strings}, never written again. */
    private Tensor(long[] shape, String[] strings) {
        this.dtype = DType.STRING;
        this.shape = shape.clone();
        this.data = null;
        this.strings = strings;
        this.pool = null;
        this.borrowed = null;
        if (strings.length != Shapes.elementCountInt(this.shape)) {
            throw new IllegalArgumentException("shape " + Shapes.text(shape) + " expects " + Shapes.elementCountInt(this.shape)
                    + " strings, found " + strings.length);
        }
    }

    /** Takes ownership of {@code data}: direct, native order, exactly the packed elements, never written again. */
    private Tensor(DType dtype, long[] shape, ByteBuffer data) {
        this(dtype, shape, data, null, null);
    }

    /** Like the above; {@code data} starts {@code borrowed}, a buffer of {@code pool}, or both are null. */
    private Tensor(DType dtype, long[] shape, ByteBuffer data, BufferPool pool, ByteBuffer borrowed) {
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        this.data = data;
        this.strings = null;
        this.pool = pool;
        this.borrowed = borrowed;
        if (dtype.isString()) {
            throw new IllegalArgumentException("expected a numeric or boolean type for a packed buffer, found " + dtype);
        }
        long expected = (long) Shapes.elementCountInt(this.shape) * dtype.byteSize();
        if (data.capacity() != expected) {
            throw new IllegalArgumentException("shape " + Shapes.text(shape) + " of " + dtype + " expects " + expected
                    + " bytes, found " + data.capacity());
        }
    }

    static ByteBuffer allocate(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("expected a tensor of at most " + Integer.MAX_VALUE + " bytes, found " + bytes);
        }
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
    }

    /** A tensor of zeros (false for booleans, empty strings for text). */
    public static Tensor zeros(DType dtype, long... shape) {
        if (dtype.isString()) {
            String[] empty = new String[Shapes.elementCountInt(shape)];
            Arrays.fill(empty, "");
            return new Tensor(shape, empty);
        }
        return new Tensor(dtype, shape, allocate((long) Shapes.elementCountInt(shape) * dtype.byteSize()));
    }

    /**
     * A text tensor ({@link DType#STRING}) of {@code values}, copied.
     *
     * @throws IllegalArgumentException when the count does not fit the shape, or a value holds text
     *                                  ONNX Runtime's Java API cannot pass unchanged ({@link #checkText})
     */
    public static Tensor ofStrings(long[] shape, String... values) {
        String[] copy = values.clone();
        for (int i = 0; i < copy.length; i++) {
            checkText(i, copy[i]);
        }
        return new Tensor(shape, copy);
    }

    /**
     * Refuses what ONNX Runtime's Java API would not hand to the runtime byte for byte: it passes
     * strings as modified UTF-8, which spells NUL and characters outside the Basic Multilingual
     * Plane (emoji, for one) differently from UTF-8, so a model would see other bytes than the ones sent.
     *
     * @throws IllegalArgumentException naming the element and the character
     */
    static void checkText(int index, String value) {
        Objects.requireNonNull(value, "element " + index);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == 0 || Character.isSurrogate(c)) {
                throw new IllegalArgumentException("element " + index + ": expected text without NUL or characters outside"
                        + " the Basic Multilingual Plane (ONNX Runtime's Java API passes strings as modified UTF-8), found "
                        + String.format("U+%04X", value.codePointAt(i)) + " at character " + i);
            }
        }
    }

    public static Tensor ofFloats(long[] shape, float... values) {
        ByteBuffer data = allocate(4L * values.length);
        data.asFloatBuffer().put(values);
        return new Tensor(DType.FLOAT, shape, data);
    }

    public static Tensor ofDoubles(long[] shape, double... values) {
        ByteBuffer data = allocate(8L * values.length);
        data.asDoubleBuffer().put(values);
        return new Tensor(DType.DOUBLE, shape, data);
    }

    public static Tensor ofInts(long[] shape, int... values) {
        ByteBuffer data = allocate(4L * values.length);
        data.asIntBuffer().put(values);
        return new Tensor(DType.INT32, shape, data);
    }

    public static Tensor ofLongs(long[] shape, long... values) {
        ByteBuffer data = allocate(8L * values.length);
        data.asLongBuffer().put(values);
        return new Tensor(DType.INT64, shape, data);
    }

    public static Tensor ofBooleans(long[] shape, boolean... values) {
        ByteBuffer data = allocate(values.length);
        for (int i = 0; i < values.length; i++) {
            data.put(i, (byte) (values[i] ? 1 : 0));
        }
        return new Tensor(DType.BOOL, shape, data);
    }

    /**
     * A tensor of the elements packed in {@code packed} from its position to its limit, in the
     * buffer's own byte order (the journal writes big-endian); the bytes are copied.
     */
    public static Tensor copyOf(DType dtype, long[] shape, ByteBuffer packed) {
        return copyOf(dtype, shape, packed, BufferPool.NONE);
    }

    /**
     * Like {@link #copyOf(DType, long[], ByteBuffer)}, into a buffer borrowed from {@code pool}; the
     * caller owns the tensor and {@link #recycle() recycles} it.
     */
    public static Tensor copyOf(DType dtype, long[] shape, ByteBuffer packed, BufferPool pool) {
        if (dtype.isString()) {
            return ofLengthPrefixed(shape, packed);
        }
        ByteBuffer source = packed.slice().order(packed.order());
        ByteBuffer borrowed = pool.take(source.remaining());
        ByteBuffer data = exactly(borrowed, source.remaining());
        if (source.order() == data.order()) {
            data.put(source);
        } else {
            int n = source.remaining() / dtype.byteSize();
            for (int i = 0; i < n; i++) {
                if (dtype.isFloatingPoint()) {
                    dtype.putDouble(data, i, dtype.getDouble(source, i));
                } else {
                    dtype.putLong(data, i, dtype.getLong(source, i));
                }
            }
        }
        data.clear();
        return pool.pools(data.capacity()) ? new Tensor(dtype, shape, data, pool, borrowed) : new Tensor(dtype, shape, data);
    }

    /** The first {@code bytes} of a pool's buffer, as a buffer of exactly that capacity (the buffer itself when it fits). */
    private static ByteBuffer exactly(ByteBuffer borrowed, int bytes) {
        return borrowed.capacity() == bytes ? borrowed : borrowed.slice(0, bytes).order(ByteOrder.nativeOrder());
    }

    /**
     * Gives a borrowed buffer back to its pool. Only the tensor's owner calls it, once nothing reads
     * the tensor any more; afterwards every read of it throws {@link IllegalStateException}. A second
     * call, and a call on a tensor that borrowed nothing, do nothing.
     *
     * @return whether this call gave a buffer back
     */
    public boolean recycle() {
        if (borrowed == null || !RECYCLED.compareAndSet(this, 0, 1)) {
            return false;
        }
        pool.give(borrowed);
        return true;
    }

    private void checkLive() {
        if (recycled != 0) {
            throw new IllegalStateException("expected a live tensor, found " + this + " recycled (its buffer is back in the pool)");
        }
    }

    /**
     * A text tensor of the elements in {@code packed} from its position to its limit, each a 4-byte
     * length (in the buffer's byte order) and then that many bytes of UTF-8, as Triton's binary
     * tensor extension and the gRPC raw contents carry BYTES.
     *
     * @throws IllegalArgumentException when the bytes do not hold exactly the shape's elements, a
     *                                  length runs past the end, or an element is not valid UTF-8
     */
    private static Tensor ofLengthPrefixed(long[] shape, ByteBuffer packed) {
        ByteBuffer in = packed.slice().order(packed.order());
        int count = Shapes.elementCountInt(shape);
        String[] values = new String[count];
        var utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int i = 0; i < count; i++) {
            if (in.remaining() < 4) {
                throw new IllegalArgumentException("shape " + Shapes.text(shape) + " expected " + count
                        + " length-prefixed elements, found " + i + (in.hasRemaining() ? " and " + in.remaining() + " stray bytes" : ""));
            }
            long length = Integer.toUnsignedLong(in.getInt());
            if (length > in.remaining()) {
                throw new IllegalArgumentException("element " + i + ": expected " + length + " bytes after its 4-byte length, found "
                        + in.remaining());
            }
            ByteBuffer bytes = in.slice().limit((int) length);
            in.position(in.position() + (int) length);
            try {
                values[i] = utf8.decode(bytes).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("element " + i + ": expected UTF-8 text (ONNX Runtime takes BYTES as strings),"
                        + " found bytes that are not UTF-8");
            }
            checkText(i, values[i]);
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("shape " + Shapes.text(shape) + " expected " + count
                    + " length-prefixed elements, found " + in.remaining() + " bytes more");
        }
        return new Tensor(shape, values);
    }

    /**
     * Copies an ONNX Runtime output out of native memory, so the result outlives the
     * {@code OrtSession.Result} it came from.
     *
     * @throws IllegalArgumentException when the element type is none of {@link DType}, or its strings cannot be read
     */
    public static Tensor copyOf(OnnxTensor tensor) {
        return copyOf(tensor, BufferPool.NONE);
    }

    /**
     * Like {@link #copyOf(OnnxTensor)}, a numeric tensor into a buffer borrowed from {@code pool}; the
     * caller owns the copy and {@link #recycle() recycles} it.
     */
    public static Tensor copyOf(OnnxTensor tensor, BufferPool pool) {
        OnnxJavaType type = tensor.getInfo().type;
        DType dtype = DType.fromJavaType(type).orElseThrow(() -> new IllegalArgumentException(
                "expected one of " + DType.oipNames() + ", found " + type));
        if (dtype.isString()) {
            long[] shape = tensor.getInfo().getShape();
            String[] values = new String[Shapes.elementCountInt(shape)];
            try {
                flatten(tensor.getValue(), values, 0);
            } catch (OrtException e) {
                throw new IllegalArgumentException("reading a BYTES tensor out of ONNX Runtime failed: " + e.getMessage(), e);
            }
            return new Tensor(shape, values);
        }
        return copyOf(dtype, tensor.getInfo().getShape(), tensor.getByteBuffer().order(ByteOrder.nativeOrder()), pool);
    }

    /** Copies the strings of a value the Java API nests as its shape says (a String, String[], String[][]...). */
    private static int flatten(Object value, String[] out, int next) {
        if (value instanceof String text) {
            out[next] = text;
            return next + 1;
        }
        for (Object item : (Object[]) value) {
            next = flatten(item, out, next);
        }
        return next;
    }

    /**
     * Stacks tensors of one type and shape along a new first dimension: {@code n} tensors of
     * shape {@code [a,b]} become one of shape {@code [n,a,b]}, their buffers copied once into one.
     *
     * @throws IllegalArgumentException when {@code rows} is empty or the rows differ in type or shape
     */
    public static Tensor stack(List<Tensor> rows) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("expected at least one tensor to stack, found none");
        }
        Tensor first = rows.get(0);
        for (int i = 0; i < rows.size(); i++) {
            Tensor row = rows.get(i);
            row.checkLive();
            if (row.dtype != first.dtype || !Arrays.equals(row.shape, first.shape)) {
                throw new IllegalArgumentException("tensor " + i + ": expected " + first + " like the first, found " + row);
            }
        }
        long[] shape = Shapes.withBatch(rows.size(), first.shape);
        if (first.dtype.isString()) {
            return new Tensor(shape, joinStrings(rows));
        }
        ByteBuffer data = allocate((long) first.data.capacity() * rows.size());
        for (Tensor row : rows) {
            data.put(row.data.duplicate().clear());
        }
        data.clear();
        return new Tensor(first.dtype, shape, data);
    }

    /**
     * Joins tensors of one type and one row shape along their first dimension: tensors of shapes
     * {@code [2,a]} and {@code [3,a]} become one of shape {@code [5,a]}, rows in argument order,
     * their buffers copied once into one.
     *
     * @throws IllegalArgumentException when {@code parts} is empty, holds a scalar, or the parts differ in type or row shape
     */
    public static Tensor concat(List<Tensor> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("expected at least one tensor to join, found none");
        }
        Tensor first = parts.get(0);
        long rows = 0;
        long bytes = 0;
        for (int i = 0; i < parts.size(); i++) {
            Tensor part = parts.get(i);
            part.checkLive();
            if (part.rank() == 0 || part.dtype != first.dtype
                    || !Arrays.equals(Shapes.withoutBatch(part.shape), Shapes.withoutBatch(first.shape))) {
                throw new IllegalArgumentException("tensor " + i + ": expected rows like the first's " + first + ", found " + part);
            }
            rows += part.shape[0];
            bytes += part.dtype.isString() ? 0 : part.data.capacity();
        }
        if (first.dtype.isString()) {
            return new Tensor(Shapes.withBatch(rows, Shapes.withoutBatch(first.shape)), joinStrings(parts));
        }
        ByteBuffer data = allocate(bytes);
        for (Tensor part : parts) {
            data.put(part.data.duplicate().clear());
        }
        data.clear();
        return new Tensor(first.dtype, Shapes.withBatch(rows, Shapes.withoutBatch(first.shape)), data);
    }

    private static String[] joinStrings(List<Tensor> parts) {
        return parts.stream().flatMap(t -> Arrays.stream(t.strings)).toArray(String[]::new);
    }

    /** Rows {@code from} (inclusive) to {@code to} (exclusive) of the first dimension, as a tensor of its own (a copy). */
    public Tensor rows(int from, int to) {
        checkLive();
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("rows " + from + " to " + to + " of a tensor of shape " + Shapes.text(shape));
        }
        if (dtype.isString()) {
            return new Tensor(Shapes.withBatch(to - from, Shapes.withoutBatch(shape)),
                    Arrays.copyOfRange(strings, from * rowLength(), to * rowLength()));
        }
        int rowBytes = rowLength() * dtype.byteSize();
        ByteBuffer slice = allocate((long) (to - from) * rowBytes);
        slice.put(this.data.duplicate().position(from * rowBytes).limit(to * rowBytes));
        slice.clear();
        return new Tensor(dtype, Shapes.withBatch(to - from, Shapes.withoutBatch(shape)), slice);
    }

    /** Row {@code index} of the first dimension, without that dimension, as a tensor of its own (a copy). */
    public Tensor row(int index) {
        checkLive();
        if (shape.length == 0 || index < 0 || index >= shape[0]) {
            throw new IndexOutOfBoundsException("row " + index + " of a tensor of shape " + Shapes.text(shape));
        }
        long[] rowShape = Shapes.withoutBatch(shape);
        if (dtype.isString()) {
            int length = rowLength();
            return new Tensor(rowShape, Arrays.copyOfRange(strings, index * length, (index + 1) * length));
        }
        int bytes = Shapes.elementCountInt(rowShape) * dtype.byteSize();
        ByteBuffer data = allocate(bytes);
        data.put(this.data.duplicate().position(index * bytes).limit((index + 1) * bytes));
        data.clear();
        return new Tensor(dtype, rowShape, data);
    }

    public DType dtype() {
        return dtype;
    }

    /** The concrete shape; a copy. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Dimension {@code axis} of the shape. */
    public long dim(int axis) {
        return shape[axis];
    }

    /** Instances in the batch: the first dimension (1 for a scalar). */
    public int batchSize() {
        return shape.length == 0 ? 1 : (int) shape[0];
    }

    public int elementCount() {
        return dtype.isString() ? strings.length : data.capacity() / dtype.byteSize();
    }

    /** Elements per batch row: the product of every dimension after the first. */
    public int rowLength() {
        return shape.length == 0 ? 1 : Shapes.elementCountInt(Shapes.withoutBatch(shape));
    }

    public double getDouble(int index) {
        return dtype.getDouble(data, checkIndex(index));
    }

    public long getLong(int index) {
        return dtype.getLong(data, checkIndex(index));
    }

    /** Element {@code index} of a text tensor. */
    public String getString(int index) {
        if (strings == null) {
            throw new IllegalStateException("expected a BYTES tensor, found " + this);
        }
        return strings[checkIndex(index)];
    }

    /**
     * Element {@code index} as JSON writes it: a {@code Float}, {@code Double}, {@code Integer},
     * {@code Long}, {@code Boolean}, or a {@code String} for text.
     */
    public Object boxed(int index) {
        return dtype.isString() ? strings[checkIndex(index)] : dtype.boxed(data, checkIndex(index));
    }

    /** Row {@code row} as doubles, whatever the type (booleans read as 0 and 1). */
    public double[] rowAsDoubles(int row) {
        int length = rowLength();
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            out[i] = getDouble(row * length + i);
        }
        return out;
    }

    /**
     * The packed elements, read-only, native order, position 0.
     *
     * @throws IllegalStateException for a text tensor, which has no packed buffer ({@link #toBytes} has its bytes)
     */
    public ByteBuffer bytes() {
        checkLive();
        if (data == null) {
            throw new IllegalStateException("expected a tensor with packed elements, found " + this
                    + " (text is written with toBytes)");
        }
        return data.asReadOnlyBuffer().order(data.order());
    }

    /**
     * The packed elements as a copy in {@code order} (the binary tensor extension's bytes are
     * little-endian); for text, each element as a 4-byte length in {@code order} and then its UTF-8
     * bytes, which {@link #copyOf(DType, long[], ByteBuffer)} reads back.
     */
    public byte[] toBytes(ByteOrder order) {
        checkLive();
        if (dtype.isString()) {
            byte[][] utf8 = new byte[strings.length][];
            long total = 0;
            for (int i = 0; i < strings.length; i++) {
                utf8[i] = strings[i].getBytes(StandardCharsets.UTF_8);
                total += 4L + utf8[i].length;
            }
            if (total > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("expected a tensor of at most " + Integer.MAX_VALUE + " bytes, found " + total);
            }
            ByteBuffer out = ByteBuffer.allocate((int) total).order(order);
            for (byte[] element : utf8) {
                out.putInt(element.length).put(element);
            }
            return out.array();
        }
        ByteBuffer out = ByteBuffer.allocate(data.capacity()).order(order);
        if (order == data.order()) {
            out.put(data.duplicate().clear());
        } else {
            int n = elementCount();
            for (int i = 0; i < n; i++) {
                if (dtype.isFloatingPoint()) {
                    dtype.putDouble(out, i, dtype.getDouble(data, i));
                } else {
                    dtype.putLong(out, i, dtype.getLong(data, i));
                }
            }
        }
        return out.array();
    }

    public FloatBuffer floats() {
        return bytes(DType.FLOAT).asFloatBuffer();
    }

    public DoubleBuffer doubles() {
        return bytes(DType.DOUBLE).asDoubleBuffer();
    }

    public IntBuffer ints() {
        return bytes(DType.INT32).asIntBuffer();
    }

    public LongBuffer longs() {
        return bytes(DType.INT64).asLongBuffer();
    }

    private ByteBuffer bytes(DType wanted) {
        if (dtype != wanted) {
            throw new IllegalStateException("expected a " + wanted + " tensor, found " + this);
        }
        return bytes();
    }

    private int checkIndex(int index) {
        checkLive();
        return Objects.checkIndex(index, elementCount());
    }

    /**
     * An ONNX Runtime tensor over this tensor's own direct buffer, not a copy. The caller owns the
     * result and closes it in a try-with-resources; this tensor must outlive it, which it does as
     * long as the caller holds a reference to it.
     */
    public OnnxTensor toOnnx(OrtEnvironment env) throws OrtException {
        checkLive();
        // A duplicate, so the runtime's view has its own position; it shares the memory, and the
        // runtime only reads inputs.
        if (dtype.isString()) {
            // The Java API copies the strings into the runtime's own tensor.
            return OnnxTensor.createTensor(env, strings, shape);
        }
        ByteBuffer view = data.duplicate().order(data.order());
        return switch (dtype) {
            case FLOAT -> OnnxTensor.createTensor(env, view.asFloatBuffer(), shape);
            case DOUBLE -> OnnxTensor.createTensor(env, view.asDoubleBuffer(), shape);
            case INT32 -> OnnxTensor.createTensor(env, view.asIntBuffer(), shape);
            case INT64 -> OnnxTensor.createTensor(env, view.asLongBuffer(), shape);
            case BOOL, FLOAT16, BFLOAT16, INT8, INT16, UINT8 -> OnnxTensor.createTensor(env, view, shape, dtype.javaType());
            case STRING -> throw new IllegalStateException("text tensors are created above");
        };
    }

    /** Starts a tensor of {@code dtype} and {@code shape} to be filled element by element in row-major order. */
    public static Builder builder(DType dtype, long... shape) {
        return new Builder(dtype, BufferPool.NONE, shape);
    }

    /**
     * Like {@link #builder(DType, long...)}, filling a buffer borrowed from {@code pool} when the
     * tensor's size is one the pool keeps; the caller owns the built tensor and {@link #recycle() recycles} it.
     */
    public static Builder builder(DType dtype, BufferPool pool, long... shape) {
        return new Builder(dtype, pool, shape);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Tensor other) || dtype != other.dtype || !Arrays.equals(shape, other.shape)) {
            return false;
        }
        return dtype.isString() ? Arrays.equals(strings, other.strings)
                : data.duplicate().clear().equals(other.data.duplicate().clear());
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape),
                dtype.isString() ? Arrays.hashCode(strings) : data.duplicate().clear().hashCode());
    }

    @Override
    public String toString() {
        return dtype.oipName() + Shapes.text(shape);
    }

    /**
     * Fills a tensor's buffer in row-major order. Memory grows with what is written, up to the
     * declared size, so a request declaring a huge shape costs only what it actually sends.
     *
     * <p>Not thread-safe; one thread fills it, then {@link #build()} hands the buffer to an
     * immutable {@link Tensor} and the builder is spent.
     */
    public static final class Builder {
        private static final int FIRST_ELEMENTS = 64 * 1024;

        private final DType dtype;
        private final long[] shape;
        private final int capacity;
        private final BufferPool pool;
        /** The pool's buffer being filled, or null when the elements grow in buffers of their own. */
        private ByteBuffer borrowed;
        private ByteBuffer data;
        /** The elements of a text tensor, grown like {@code data}; null otherwise. */
        private String[] strings;
        private int next;

        private Builder(DType dtype, BufferPool pool, long[] shape) {
            this.dtype = dtype;
            this.shape = shape.clone();
            this.capacity = Shapes.elementCountInt(shape);
            this.pool = pool;
            long bytes = (long) capacity * dtype.byteSize();
            if (dtype.isString()) {
                this.strings = new String[Math.min(capacity, FIRST_ELEMENTS)];
            } else if (pool.pools(bytes)) {
                // Within the pool's largest buffer: the whole tensor's room at once, usually without allocating.
                this.borrowed = pool.take((int) bytes);
                this.data = exactly(borrowed, (int) bytes);
            } else {
                this.data = pool.allocateOwn((long) Math.min(capacity, FIRST_ELEMENTS) * dtype.byteSize());
            }
        }

        public DType dtype() {
            return dtype;
        }

        /** Elements written so far, which is also the index of the next one. */
        public int position() {
            return next;
        }

        /** Elements the shape holds. */
        public int capacity() {
            return capacity;
        }

        public boolean isFull() {
            return next == capacity;
        }

        /** Appends a floating-point element, narrowed to the type. */
        public Builder addDouble(double value) {
            dtype.putDouble(room(), next++, value);
            return this;
        }

        /** Appends an integer or boolean (0 or 1) element, narrowed to the type. */
        public Builder addLong(long value) {
            dtype.putLong(room(), next++, value);
            return this;
        }

        public Builder addBoolean(boolean value) {
            return addLong(value ? 1 : 0);
        }

        /**
         * Appends a text element.
         *
         * @throws IllegalArgumentException when the text has characters ONNX Runtime's Java API would
         *                                  not pass unchanged (the message names the element)
         * @throws IllegalStateException    when this builder is not for {@link DType#STRING} or is full
         */
        public Builder addString(String value) {
            if (strings == null) {
                throw new IllegalStateException("expected a BYTES tensor to add text to, found " + dtype.oipName());
            }
            checkFull();
            checkText(next, value);
            if (next == strings.length) {
                strings = Arrays.copyOf(strings, (int) Math.min(capacity, Math.max(1, next) * 2L));
            }
            strings[next++] = value;
            return this;
        }

        private void checkFull() {
            if (next == capacity) {
                throw new IllegalStateException("shape " + Shapes.text(shape) + " holds " + capacity
                        + " elements; no room for another");
            }
        }

        private ByteBuffer room() {
            if (data == null) {
                throw new IllegalStateException("expected a numeric or boolean tensor, found BYTES (add text with addString)");
            }
            checkFull();
            if ((long) next * dtype.byteSize() == data.capacity()) {
                ByteBuffer grown = allocate((long) Math.min(capacity, Math.max(1, next) * 2L) * dtype.byteSize());
                grown.put(data.clear());
                data = grown;
            }
            return data;
        }

        /** The tensor, once every element is written. */
        public Tensor build() {
            if (next != capacity) {
                throw new IllegalStateException("shape " + Shapes.text(shape) + " holds " + capacity
                        + " elements, found " + next);
            }
            Tensor tensor = strings != null ? new Tensor(shape, Arrays.copyOf(strings, next))
                    : borrowed != null ? new Tensor(dtype, shape, data.clear(), pool, borrowed)
                    : new Tensor(dtype, shape, data.clear());
            data = null;
            borrowed = null;
            strings = null;
            return tensor;
        }
    }
}

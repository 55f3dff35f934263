package io.microkernel.api.grpc;

import io.microkernel.api.grpc.proto.InferTensorContents;
import io.microkernel.tensor.Tensor;
import java.util.Optional;

/**
 * The typed field of {@code InferTensorContents} that carries each datatype, as the protocol
 * assigns them: INT8 to INT32 share {@code int_contents}, UINT8 to UINT32 {@code uint_contents};
 * FP16 and BF16 have none and travel only as raw contents; BYTES (UTF-8 text here) goes in
 * {@code bytes_contents}. Keyed by the OIP datatype name, so a
 * datatype {@code DType} learns later finds its field here without a change.
 */
enum ContentsField {
    BOOL("bool_contents"),
    INT("int_contents"),
    INT64("int64_contents"),
    UINT("uint_contents"),
    UINT64("uint64_contents"),
    FP32("fp32_contents"),
    FP64("fp64_contents"),
    BYTES("bytes_contents");

    private final String protoName;

    ContentsField(String protoName) {
        this.protoName = protoName;
    }

    /** The field's name in the proto, as messages print it. */
    String protoName() {
        return protoName;
    }

    /** The field that carries {@code datatype} ({@code FP32}, {@code INT8}...), if one does. */
    static Optional<ContentsField> forDatatype(String datatype) {
        return Optional.ofNullable(switch (datatype) {
            case "BOOL" -> BOOL;
            case "INT8", "INT16", "INT32" -> INT;
            case "INT64" -> INT64;
            case "UINT8", "UINT16", "UINT32" -> UINT;
            case "UINT64" -> UINT64;
            case "FP32" -> FP32;
            case "FP64" -> FP64;
            case "BYTES" -> BYTES;
            default -> null;
        });
    }

    /** How many values {@code contents} holds in this field. */
    int count(InferTensorContents contents) {
        return switch (this) {
            case BOOL -> contents.getBoolContentsCount();
            case INT -> contents.getIntContentsCount();
            case INT64 -> contents.getInt64ContentsCount();
            case UINT -> contents.getUintContentsCount();
            case UINT64 -> contents.getUint64ContentsCount();
            case FP32 -> contents.getFp32ContentsCount();
            case FP64 -> contents.getFp64ContentsCount();
            case BYTES -> contents.getBytesContentsCount();
        };
    }

    /**
     * Appends every value of this field to {@code out}, in order; the builder narrows them to its type.
     *
     * @throws IllegalArgumentException when a BYTES element is not UTF-8 text the runtime can take (the message names it)
     */
    void fill(InferTensorContents contents, Tensor.Builder out) {
        int n = count(contents);
        for (int i = 0; i < n; i++) {
            switch (this) {
                case BOOL -> out.addBoolean(contents.getBoolContents(i));
                case INT -> out.addLong(contents.getIntContents(i));
                case INT64 -> out.addLong(contents.getInt64Contents(i));
                case UINT -> out.addLong(Integer.toUnsignedLong(contents.getUintContents(i)));
                case UINT64 -> out.addLong(contents.getUint64Contents(i));
                case FP32 -> out.addDouble(contents.getFp32Contents(i));
                case FP64 -> out.addDouble(contents.getFp64Contents(i));
                case BYTES -> out.addString(utf8(contents.getBytesContents(i), i));
            }
        }
    }

    private static String utf8(com.google.protobuf.ByteString bytes, int index) {
        if (!bytes.isValidUtf8()) {
            throw new IllegalArgumentException("element " + index
                    + ": expected UTF-8 text (ONNX Runtime takes BYTES as strings), found bytes that are not UTF-8");
        }
        return bytes.toStringUtf8();
    }

    /** Writes every element of {@code tensor} into this field of {@code out}. */
    void write(Tensor tensor, InferTensorContents.Builder out) {
        int n = tensor.elementCount();
        for (int i = 0; i < n; i++) {
            switch (this) {
                case BOOL -> out.addBoolContents(tensor.getLong(i) != 0);
                case INT -> out.addIntContents((int) tensor.getLong(i));
                case INT64 -> out.addInt64Contents(tensor.getLong(i));
                case UINT -> out.addUintContents((int) tensor.getLong(i));
                case UINT64 -> out.addUint64Contents(tensor.getLong(i));
                case FP32 -> out.addFp32Contents((float) tensor.getDouble(i));
                case FP64 -> out.addFp64Contents(tensor.getDouble(i));
                case BYTES -> out.addBytesContents(com.google.protobuf.ByteString.copyFromUtf8(tensor.getString(i)));
            }
        }
    }
}

package io.microkernel.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.microkernel.api.grpc.proto.InferTensorContents;
import io.microkernel.serving.InputValidationException;
import io.microkernel.tensor.BufferPool;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Raw contents are little-endian whatever the platform; typed contents come from the datatype's own field. */
class GrpcTensorsTest {

    @Test
    void rawContentsAreReadAndWrittenLittleEndian() {
        ByteBuffer packed = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L).putLong(-2L);
        Tensor tensor = GrpcTensors.raw(ByteString.copyFrom(packed.array()), BufferPool.NONE).read(DType.INT64, new long[] {1, 2}, "input 'x'");
        assertThat(tensor.getLong(0)).isEqualTo(1L);
        assertThat(tensor.getLong(1)).isEqualTo(-2L);
        assertThat(GrpcTensors.littleEndian(tensor).toByteArray()).isEqualTo(packed.array());
    }

    @Test
    void typedContentsMustUseTheDatatypesFieldWithOneValuePerElement() {
        InferTensorContents ints = InferTensorContents.newBuilder().addIntContents(1).addIntContents(2).build();
        assertThat(GrpcTensors.typed(ints, BufferPool.NONE).read(DType.INT32, new long[] {1, 2}, "input 'x'")).isEqualTo(Tensor.ofInts(new long[] {1, 2}, 1, 2));
        assertThatThrownBy(() -> GrpcTensors.typed(ints, BufferPool.NONE).read(DType.INT64, new long[] {1, 2}, "input 'x'"))
                .isInstanceOf(InputValidationException.class)
                .hasMessage("input 'x': expected contents.int64_contents for datatype INT64, found contents.int_contents");
        assertThatThrownBy(() -> GrpcTensors.typed(ints, BufferPool.NONE).read(DType.INT32, new long[] {1, 3}, "input 'x'"))
                .isInstanceOf(InputValidationException.class)
                .hasMessage("input 'x': shape [1,3] expected 3 values in contents.int_contents, found 2");
    }

    @Test
    void unsignedContentsAreReadUnsigned() {
        InferTensorContents uints = InferTensorContents.newBuilder().addUintContents(-1).build();
        Tensor.Builder out = Tensor.builder(DType.INT64, 1);
        ContentsField.UINT.fill(uints, out);
        assertThat(out.build().getLong(0)).isEqualTo(4_294_967_295L);
    }
}

package io.microkernel.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.microkernel.tensor.Tensor;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The OIP answer as {@link BinaryTensors} writes it field by field: byte for byte what Jackson's
 * bean serializer writes from the records' annotations, and the binary outputs after it; and the
 * strict request reader, kept per mapper.
 */
class BinaryTensorsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Oip.InferResponse answer(String id, boolean binary) {
        return new Oip.InferResponse("default", "3", id, List.of(
                Oip.InferOutput.of("scores", Tensor.ofFloats(new long[] {1, 4}, 0.25f, -1.5e-7f, 3.4028235e38f, 1f), binary),
                Oip.InferOutput.of("counts", Tensor.ofLongs(new long[] {2}, 7L, -9_000_000_000L), binary),
                Oip.InferOutput.of("flags", Tensor.ofBooleans(new long[] {2}, true, false), binary),
                Oip.InferOutput.ofStrings(Oip.PREDICTED_CLASS, List.of("circle", "naïve \"x\""), binary)));
    }

    @Test
    void writesJsonAnswersAsTheBeanSerializerDoes() throws IOException {
        for (String id : Arrays.asList("p-1", null)) {
            Oip.InferResponse response = answer(id, false);

            Response written = BinaryTensors.write(JSON, response);

            assertThat(written.getMediaType()).isEqualTo(MediaType.APPLICATION_JSON_TYPE);
            assertThat(new String((byte[]) written.getEntity(), StandardCharsets.UTF_8))
                    .isEqualTo(JSON.writeValueAsString(response));
        }
        assertThat(new String((byte[]) BinaryTensors.write(JSON, answer(null, false)).getEntity(), StandardCharsets.UTF_8))
                .startsWith("{\"model_name\":\"default\",\"model_version\":\"3\",\"outputs\":[{\"name\":\"scores\",\"datatype\":\"FP32\","
                        + "\"shape\":[1,4],\"data\":[0.25,-1.5E-7,3.4028235E38,1.0]}");
    }

    @Test
    void writesBinaryOutputsAfterTheirJsonHeader() throws IOException {
        Oip.InferResponse response = answer("p-2", true);

        Response written = BinaryTensors.write(JSON, response);

        byte[] header = JSON.writeValueAsBytes(response);
        byte[] body = (byte[]) written.getEntity();
        assertThat(written.getMediaType()).isEqualTo(MediaType.APPLICATION_OCTET_STREAM_TYPE);
        assertThat(written.getHeaderString(BinaryTensors.HEADER_LENGTH)).isEqualTo(Integer.toString(header.length));
        assertThat(Arrays.copyOf(body, header.length)).isEqualTo(header);
        int at = header.length;
        for (Oip.InferOutput output : response.outputs()) {
            assertThat(Arrays.copyOfRange(body, at, at + output.binary().length)).isEqualTo(output.binary());
            at += output.binary().length;
        }
        assertThat(at).isEqualTo(body.length);
        assertThat(new String(header, StandardCharsets.UTF_8)).contains("\"parameters\":{\"binary_data_size\":16}");
    }

    @Test
    void readsStrictlyWhicheverMapperItIsGiven() throws IOException {
        byte[] good = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}".getBytes(StandardCharsets.UTF_8);
        byte[] unknown = "{\"inputs\":[],\"extra\":1}".getBytes(StandardCharsets.UTF_8);

        for (ObjectMapper mapper : List.of(JSON, new ObjectMapper(), JSON)) {
            assertThat(BinaryTensors.read(mapper, good, null, "application/json").inputs()).hasSize(1);
            assertThatThrownBy(() -> BinaryTensors.read(mapper, unknown, null, "application/json"))
                    .isInstanceOf(UnrecognizedPropertyException.class)
                    .hasMessageContaining("\"extra\"");
        }
    }
}

package io.microkernel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.microkernel.demo.ShapeImages;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SamplesCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        String[] line = new String[args.length + 2];
        line[0] = "artifacts";
        line[1] = "samples";
        System.arraycopy(args, 0, line, 2, args.length);
        return Cli.execute(line, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), serverArgs -> {
                    throw new AssertionError("samples must not start the server");
                }).exitCode();
    }

    @Test
    void printsTheSamplesBodyDeterministicallyBySeed() throws Exception {
        assertThat(run("--style", "target", "--count", "12", "--seed", "5")).isZero();
        String first = out.toString(StandardCharsets.UTF_8);
        JsonNode body = new ObjectMapper().readTree(first);
        assertThat(body.get("samples")).hasSize(12);
        JsonNode sample = body.get("samples").get(0);
        assertThat(ShapeImages.CLASSES).contains(sample.get("label").asText());
        assertThat(sample.get("input")).hasSize(1);
        assertThat(sample.get("input").get(0)).hasSize(ShapeImages.SIZE);
        assertThat(sample.get("input").get(0).get(0)).hasSize(ShapeImages.SIZE);
        ShapeImages.Batch expected = ShapeImages.generate(ShapeImages.Domain.TARGET, 12, 5);
        assertThat(sample.get("label").asText()).isEqualTo(expected.className(0));
        assertThat((float) sample.get("input").get(0).get(3).get(7).asDouble()).isEqualTo(expected.instance(0)[0][3][7]);

        assertThat(run("--style", "target", "--count", "12", "--seed", "5")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(first);
    }

    @Test
    void aWrongCommandLineIsExitCode2WithTheUsage() {
        assertThat(run("--style", "sketch")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Invalid value for option '--style'")
                .contains("Usage: onnx-microkernel artifacts samples");
        assertThat(run("--count")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Missing required parameter for option '--count'");
        assertThat(run("--count", "0")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--count expects 1..100000, found 0");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}

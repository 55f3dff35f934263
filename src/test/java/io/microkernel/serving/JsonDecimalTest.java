package io.microkernel.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.microkernel.tensor.DType;
import io.microkernel.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Decimals are read from the parser's characters in place; the values must be exactly what Double.parseDouble gives. */
class JsonDecimalTest {

    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private static Tensor read(String array, DType dtype, int count) throws Exception {
        try (JsonParser p = JSON.createParser(array)) {
            p.nextToken();
            return JsonTensorReader.readFlat(p, dtype, new long[] {count}, "input 'x'");
        }
    }

    @Test
    void decimalsReadAsDoubleParseDoubleReadsThem() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
            double v = switch (i % 4) {
                case 0 -> random.nextDouble();
                case 1 -> (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-300, 300));
                case 2 -> Float.intBitsToFloat(random.nextInt());
                default -> Double.longBitsToDouble(random.nextLong());
            };
            if (!Double.isFinite(v) || !Float.isFinite((float) v)) {
                v = random.nextDouble() * 1e30;
            }
            texts.add(i % 3 == 0 ? String.format(Locale.ROOT, "%.17e", v) : Double.toString(v));
        }
        texts.add("0.1");
        texts.add("-0.0");
        texts.add("1.00000000000000000000000000000001");
        texts.add("3.4028234663852886E38");
        String array = "[" + String.join(",", texts) + "]";

        Tensor doubles = read(array, DType.DOUBLE, texts.size());
        Tensor floats = read(array, DType.FLOAT, texts.size());

        for (int i = 0; i < texts.size(); i++) {
            double expected = Double.parseDouble(texts.get(i));
            assertThat(doubles.getDouble(i)).as(texts.get(i)).isEqualTo(expected);
            assertThat((float) floats.getDouble(i)).as(texts.get(i)).isEqualTo((float) expected);
        }
    }

    @Test
    void integersAndNonFiniteSpellingsStillReadAsBefore() throws Exception {
        Tensor mixed = read("[1, -2, 3.5e0, 40000000000]", DType.DOUBLE, 4);
        assertThat(mixed.getDouble(0)).isEqualTo(1.0);
        assertThat(mixed.getDouble(1)).isEqualTo(-2.0);
        assertThat(mixed.getDouble(2)).isEqualTo(3.5);
        assertThat(mixed.getDouble(3)).isEqualTo(4e10);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> read("[NaN]", DType.FLOAT, 1))
                .isInstanceOf(InputValidationException.class).hasMessageContaining("finite");
    }
}

package io.microkernel.api;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Generators of hostile request JSON for the fuzz suites: values of every kind nested a few deep,
 * numbers at and past the edges of every type, broken and truncated documents.
 */
final class FuzzInputs {

    private FuzzInputs() {
    }

    /** A scalar as a client might write one: numbers at the edges, non-finite spellings, text, booleans, null. */
    static Arbitrary<String> scalar() {
        return Arbitraries.oneOf(
                Arbitraries.integers().between(-3, 3).map(String::valueOf),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.doubles().map(String::valueOf).filter(s -> !s.contains("E") || s.matches("-?[0-9.]+E-?[0-9]+")),
                Arbitraries.of("0", "-0.0", "1e400", "-1e400", "4e-320", "3.4028236e38", "2147483648", "-2147483649",
                        "9223372036854775808", "123456789012345678901234567890", "1.0", "0.5e1", "NaN", "Infinity",
                        "-Infinity", "\"NaN\"", "\"inf\"", "\"1\"", "\"\"", "\"x\"", "true", "false", "null", "{}",
                        "{\"a\":1}", "[]", "[[]]"));
    }

    /** Any JSON value, arrays nested up to {@code depth} deep. */
    static Arbitrary<String> value(int depth) {
        if (depth == 0) {
            return scalar();
        }
        Arbitrary<String> inner = value(depth - 1);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, scalar()),
                net.jqwik.api.Tuple.of(4, inner.list().ofMaxSize(5).map(FuzzInputs::array)),
                net.jqwik.api.Tuple.of(1, inner.list().ofMaxSize(2).map(l -> object(List.of("input", "x"), l))));
    }

    /** A shape as a client might declare one: right, wrong, negative, huge, or not a shape at all. */
    static Arbitrary<String> shape() {
        return Arbitraries.oneOf(
                Arbitraries.integers().between(-2, 4).map(String::valueOf).list().ofMaxSize(4).map(FuzzInputs::array),
                Arbitraries.of("[1,2]", "[2,2]", "[1,4]", "[257,2]", "[100000000000,2]", "[1,2147483648]", "[1.5,2]",
                        "[\"1\",2]", "[null,2]", "null", "\"[1,2]\"", "{}", "[[1],2]", "[]"));
    }

    static Arbitrary<String> datatype() {
        return Arbitraries.of("\"FP32\"", "\"FP64\"", "\"INT32\"", "\"INT64\"", "\"BOOL\"", "\"BYTES\"", "\"fp32\"", "\"\"",
                "null", "5", "[]", "{}");
    }

    static Arbitrary<String> name() {
        return Arbitraries.of("\"x\"", "\"y\"", "\"\"", "null", "1", "[]", "\"input\"", "\"x\\u0000\"");
    }

    /** One OIP input object with its fields in any order, some missing, some repeated. */
    static Arbitrary<String> oipInput() {
        Arbitrary<String> field = Arbitraries.oneOf(
                name().map(v -> "\"name\":" + v),
                shape().map(v -> "\"shape\":" + v),
                datatype().map(v -> "\"datatype\":" + v),
                value(3).map(v -> "\"data\":" + v),
                value(1).map(v -> "\"parameters\":" + v),
                value(1).map(v -> "\"other\":" + v));
        Arbitrary<String> fair = Combinators.combine(name(), shape(), datatype(), value(3))
                .as((n, s, d, v) -> "\"name\":" + n + ",\"shape\":" + s + ",\"datatype\":" + d + ",\"data\":" + v);
        return Arbitraries.oneOf(fair, field.list().ofMaxSize(6).map(l -> String.join(",", l))).map(f -> "{" + f + "}");
    }

    /** A whole document, sometimes cut off or with a stray byte in it. */
    static Arbitrary<String> broken(Arbitrary<String> document) {
        return Combinators.combine(document, Arbitraries.integers().between(0, 100), Arbitraries.of("", "}", ",", "\u0000", "\\", "\""))
                .as((text, percent, stray) -> {
                    int cut = Math.max(0, text.length() * percent / 100);
                    return percent > 90 ? text + stray : text.substring(0, cut) + stray;
                });
    }

    static String array(List<String> values) {
        return "[" + String.join(",", values) + "]";
    }

    private static String object(List<String> keys, List<String> values) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < values.size(); i++) {
            out.append(i == 0 ? "" : ",").append('"').append(keys.get(i % keys.size())).append("\":").append(values.get(i));
        }
        return out.append('}').toString();
    }
}

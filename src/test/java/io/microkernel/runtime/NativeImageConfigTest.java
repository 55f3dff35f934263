package io.microkernel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The native-image configuration under {@code META-INF/native-image/io.microkernel/onnx-microkernel}
 * against what ONNX Runtime's JNI library really looks up. A native image resolves JNI lookups only
 * for what is registered; anything missing fails at run time with {@code NoSuchMethodError} deep inside
 * a session. The names come from the library itself (its strings: class names such as
 * {@code ai/onnxruntime/OnnxTensor}, member names such as {@code <init>}, JNI descriptors such as
 * {@code (JJLai/onnxruntime/TensorInfo;)V}), so a new ORT version that looks up more fails here.
 */
class NativeImageConfigTest {

    private static final String CONFIG = "src/main/resources/META-INF/native-image/io.microkernel/onnx-microkernel/";
    private static final Pattern CLASS_NAME = Pattern.compile("(ai/onnxruntime|java/[a-z]+)(/[A-Za-z0-9_$]+)+");
    private static final String TYPE = "(\\[*([ZBCSIJFD]|L[A-Za-z0-9_/$]+;))";
    private static final Pattern METHOD_DESCRIPTOR = Pattern.compile("\\(" + TYPE + "*\\)(V|" + TYPE + ")");
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"ai/onnxruntime/native/linux-x64/libonnxruntime4j_jni.so",
            "ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so"})
    void everyClassMemberAndDescriptorTheJniLibraryNamesIsRegistered(String library) throws Exception {
        Set<String> strings = strings(library);
        Map<String, List<Executable>> registered = registeredJni();

        List<String> classes = strings.stream().filter(s -> CLASS_NAME.matcher(s).matches()).toList();
        assertThat(classes).as("class names in %s", library).contains("ai/onnxruntime/OnnxTensor", "ai/onnxruntime/OrtException");
        for (String name : classes) {
            assertThat(registered).as("jni-config.json registers %s, which %s looks up", name, library)
                    .containsKey(name.replace('/', '.'));
        }
        List<String> descriptors = strings.stream().filter(s -> METHOD_DESCRIPTOR.matcher(s).matches()).toList();
        assertThat(descriptors).as("JNI descriptors in %s", library).isNotEmpty();
        for (String descriptor : descriptors) {
            for (String referenced : referencedClasses(descriptor)) {
                assertThat(registered).as("jni-config.json registers %s, named in %s", referenced, descriptor)
                        .containsKey(referenced);
            }
            assertThat(registered.values().stream().flatMap(List::stream).map(NativeImageConfigTest::descriptor))
                    .as("a registered method or constructor with descriptor %s, which %s uses", descriptor, library)
                    .contains(descriptor);
        }
        for (String name : classes) {
            Class<?> type = load(name.replace('/', '.'));
            for (String member : memberNames(type)) {
                if (strings.contains(member)) {
                    assertThat(registered.get(type.getName())).as("%s.%s, named in %s", type.getName(), member, library)
                            .anyMatch(e -> memberName(e).equals(member));
                }
            }
        }
    }

    @Test
    void everyRegisteredJniEntryExistsInTheJavaApiOnTheClasspath() throws Exception {
        // registeredJni() resolves each class and each method by its parameter types, or throws.
        assertThat(registeredJni()).hasSizeGreaterThanOrEqualTo(12);
    }

    @Test
    void theBundledNativesAndVersionFilesAreResourcesOfTheImage() throws Exception {
        List<Pattern> includes = new ArrayList<>();
        JSON.readTree(Path.of(CONFIG, "resource-config.json").toFile()).path("resources").path("includes")
                .forEach(node -> includes.add(Pattern.compile(node.path("pattern").asText())));
        List<String> needed = new ArrayList<>(List.of("io/microkernel/runtime/ort-version.properties",
                "io/microkernel/cli/version.properties"));
        for (NativePlatform platform : List.of(NativePlatform.LINUX_X86_64, NativePlatform.LINUX_ARM64)) {
            NativeLibrary.bundled(getClass().getClassLoader(), platform).forEach(b -> needed.add(b.resource()));
        }
        for (String resource : needed) {
            assertThat(getClass().getClassLoader().getResource(resource)).as(resource).isNotNull();
            assertThat(includes).as("resource-config.json includes %s", resource)
                    .anyMatch(p -> p.matcher(resource).matches());
        }
        assertThat(includes).noneMatch(p -> p.matcher("org/bytedeco/onnxruntime/linux-x86_64/libjnionnxruntime.so").matches());
    }

    @Test
    void theReflectionOfOrtShutdownHookIsRegistered() throws Exception {
        JsonNode reflect = JSON.readTree(Path.of(CONFIG, "reflect-config.json").toFile());
        Map<String, Set<String>> fields = new HashMap<>();
        for (JsonNode entry : reflect) {
            Set<String> names = new LinkedHashSet<>();
            entry.path("fields").forEach(f -> names.add(f.path("name").asText()));
            fields.put(entry.path("name").asText(), names);
        }
        // GraalVM's JDK is 21 or later: OrtShutdownHook.task reads Thread.holder.task there, not Thread.target.
        assertThat(fields).containsEntry("java.lang.ApplicationShutdownHooks", Set.of("hooks"))
                .containsEntry("java.lang.Thread", Set.of("holder"))
                .containsEntry("java.lang.Thread$FieldHolder", Set.of("task"));
        assertThat(Class.forName("java.lang.ApplicationShutdownHooks").getDeclaredField("hooks")).isNotNull();
        assertThat(Files.readString(Path.of(CONFIG, "native-image.properties")))
                .contains("--initialize-at-run-time=ai.onnxruntime,");
    }

    /** Registered classes by name, each with its registered methods and constructors resolved by reflection. */
    private static Map<String, List<Executable>> registeredJni() throws IOException, ReflectiveOperationException {
        Map<String, List<Executable>> registered = new HashMap<>();
        for (JsonNode entry : JSON.readTree(Path.of(CONFIG, "jni-config.json").toFile())) {
            Class<?> type = load(entry.path("name").asText());
            List<Executable> members = new ArrayList<>();
            for (JsonNode method : entry.path("methods")) {
                List<Class<?>> parameters = new ArrayList<>();
                for (JsonNode parameter : method.path("parameterTypes")) {
                    parameters.add(typeOf(parameter.asText()));
                }
                Class<?>[] array = parameters.toArray(Class<?>[]::new);
                String name = method.path("name").asText();
                members.add(name.equals("<init>") ? type.getDeclaredConstructor(array) : type.getDeclaredMethod(name, array));
            }
            registered.put(type.getName(), members);
        }
        return registered;
    }

    private static Class<?> typeOf(String name) throws ClassNotFoundException {
        if (name.endsWith("[]")) {
            return typeOf(name.substring(0, name.length() - 2)).arrayType();
        }
        return switch (name) {
            case "int" -> int.class;
            case "long" -> long.class;
            case "float" -> float.class;
            case "double" -> double.class;
            case "boolean" -> boolean.class;
            case "byte" -> byte.class;
            case "short" -> short.class;
            case "char" -> char.class;
            default -> load(name);
        };
    }

    private static Class<?> load(String name) throws ClassNotFoundException {
        // Not initialised: ORT's static initialisers would load the native library.
        return Class.forName(name, false, NativeImageConfigTest.class.getClassLoader());
    }

    private static String descriptor(Executable executable) {
        StringBuilder descriptor = new StringBuilder("(");
        for (Class<?> parameter : executable.getParameterTypes()) {
            descriptor.append(parameter.descriptorString());
        }
        descriptor.append(')');
        descriptor.append(executable instanceof Method m ? m.getReturnType().descriptorString() : "V");
        return descriptor.toString();
    }

    private static String memberName(Executable executable) {
        return executable instanceof Constructor<?> ? "<init>" : executable.getName();
    }

    private static Set<String> memberNames(Class<?> type) {
        // Constructors ("<init>") are matched by their descriptors above: the name alone says not whose they are.
        Set<String> names = new LinkedHashSet<>();
        Stream.of(type.getDeclaredMethods()).map(Method::getName).forEach(names::add);
        Stream.of(type.getDeclaredFields()).map(Field::getName).forEach(names::add);
        return names;
    }

    private static List<String> referencedClasses(String descriptor) {
        List<String> names = new ArrayList<>();
        var matcher = Pattern.compile("L([A-Za-z0-9_/$]+);").matcher(descriptor);
        while (matcher.find()) {
            names.add(matcher.group(1).replace('/', '.'));
        }
        return names;
    }

    /** The library's NUL-terminated runs of printable ASCII, as {@code strings} would list them. */
    private static Set<String> strings(String resource) throws IOException {
        byte[] bytes;
        try (InputStream in = NativeImageConfigTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            bytes = in.readAllBytes();
        }
        Set<String> strings = new LinkedHashSet<>();
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (byte b : bytes) {
            if (b >= 0x20 && b < 0x7f) {
                run.write(b);
            } else {
                if (b == 0 && run.size() >= 2) {
                    strings.add(run.toString(java.nio.charset.StandardCharsets.US_ASCII));
                }
                run.reset();
            }
        }
        return strings;
    }
}

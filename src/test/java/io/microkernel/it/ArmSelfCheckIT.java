package io.microkernel.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar on arm64: {@code selfcheck} under user-mode emulation ({@code qemu-aarch64-static})
 * with an arm64 JRE. The same jar as on x86-64 picks the arm64 natives by {@code os.arch}, loads them,
 * trains one step on {@code models/default}, exports and infers.
 *
 * <p>The arm64 JRE is looked for under the root named by the system property {@code arm64.root}, then
 * under {@code /} (Debian multiarch: {@code openjdk-17-jre-headless:arm64} installed) and
 * {@code /opt/arm64-jre} (the packages unpacked there with {@code dpkg -x}, as {@code .ci/run} does).
 * Where emulation or the JRE is missing the test is skipped, saying what is missing. Emulation is
 * slow (about a minute here), which measures nothing about arm64 hardware.
 */
class ArmSelfCheckIT {

    private static final String QEMU = "qemu-aarch64-static";
    private static final String JAVA = "usr/lib/jvm/java-17-openjdk-arm64/bin/java";

    @Test
    void theSameJarPassesItsSelfCheckOnArm64() throws Exception {
        Optional<Path> qemu = onPath(QEMU);
        assumeTrue(qemu.isPresent(), "skipped: " + QEMU + " is not on the PATH (Debian package qemu-user-static)");
        Optional<Path> root = arm64Root();
        assumeTrue(root.isPresent(), "skipped: no arm64 JRE at <root>/" + JAVA + " for any root of " + roots()
                + " (install openjdk-17-jre-headless:arm64, or unpack it with dpkg -x as .ci/run does)");
        assertThat(PackagedApp.RUNNER).as("the packaged application; run 'mvn package' first").isRegularFile();

        Path log = Files.createDirectories(Path.of("target", "arm-selfcheck")).resolve("selfcheck.log");
        Path tmp = Files.createDirectories(Path.of("target", "arm-selfcheck", "tmp")).toAbsolutePath();
        List<String> command = List.of(qemu.get().toString(), "-L", root.get().toString(),
                root.get().resolve(JAVA).toString(), "-Djava.io.tmpdir=" + tmp, "-jar",
                PackagedApp.RUNNER.toAbsolutePath().toString(), "selfcheck", "models/default");
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean exited = process.waitFor(10, TimeUnit.MINUTES);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        String output = Files.readString(log);
        System.out.printf("arm64 selfcheck under emulation: exit %s in %d s; see %s%n",
                exited ? process.exitValue() : "none (timed out)", seconds, log);

        assertThat(exited).as("selfcheck ends within 10 minutes; see %s", log).isTrue();
        assertThat(process.exitValue()).as("selfcheck's exit code; output:%n%s", output).isZero();
        assertThat(output).contains(" on Linux aarch64", "native 1.24.1, training enabled", "ort-1.24.1-linux-arm64-",
                "train step: loss ", "export: inference.onnx", "inference: output 'probabilities'", "selfcheck passed in ");
    }

    private static List<Path> roots() {
        String configured = System.getProperty("arm64.root");
        return configured != null ? List.of(Path.of(configured)) : List.of(Path.of("/"), Path.of("/opt/arm64-jre"));
    }

    private static Optional<Path> arm64Root() {
        return roots().stream().filter(root -> Files.isExecutable(root.resolve(JAVA))).findFirst();
    }

    private static Optional<Path> onPath(String program) throws IOException {
        String path = System.getenv().getOrDefault("PATH", "");
        try (Stream<String> dirs = Stream.of(path.split(java.io.File.pathSeparator))) {
            return dirs.filter(d -> !d.isEmpty()).map(d -> Path.of(d, program)).filter(Files::isExecutable).findFirst();
        }
    }
}

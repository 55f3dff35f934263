package io.microkernel.cli;

import io.microkernel.runtime.OrtRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: the application's version, the ONNX Runtime Java API it was built with, and the
 * native library it loads (loading it is the only way to learn its version).
 */
final class Versions implements IVersionProvider {

    @Override
    public String[] getVersion() {
        return new String[] {
            Cli.NAME + " " + applicationVersion(),
            "ONNX Runtime Java API " + OrtRuntime.expectedVersion(),
            "ONNX Runtime native " + nativeVersion()
        };
    }

    /** The project version, recorded at build time in {@code version.properties}. */
    static String applicationVersion() {
        try (InputStream in = Versions.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown (version.properties is missing; build with ./mvnw package)";
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String nativeVersion() {
        try {
            OrtRuntime runtime = OrtRuntime.start(Optional.empty());
            return runtime.environment().getVersion() + " (" + runtime.library() + ")";
        } catch (RuntimeException | LinkageError e) {
            return "not loaded: " + e.getMessage();
        }
    }
}

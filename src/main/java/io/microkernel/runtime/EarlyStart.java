package io.microkernel.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Whether the server may load the bundled ONNX Runtime before its configuration is read
 * ({@link OrtRuntime#startEarly}): only when no configuration source outside the jar can name another
 * library. The sources looked at are those the packaged server reads: system properties, the
 * environment, {@code ./config/application.properties} and {@code ./.env}. A key or line that
 * mentions {@code native-library} (in any of its spellings) or moves the configuration elsewhere
 * ({@code config.locations}) means no early start; the server's start-up then loads the runtime as
 * configured, as it always did.
 */
final class EarlyStart {

    private EarlyStart() {
    }

    static boolean allowed(Map<String, String> environment, Properties system, Path workingDir) {
        for (String key : system.stringPropertyNames()) {
            if (mentionsLibraryOrLocations(key)) {
                return false;
            }
        }
        for (String key : environment.keySet()) {
            if (mentionsLibraryOrLocations(key)) {
                return false;
            }
        }
        for (Path file : List.of(workingDir.resolve("config").resolve("application.properties"), workingDir.resolve(".env"))) {
            try {
                if (Files.isRegularFile(file) && mentionsLibraryOrLocations(Files.readString(file))) {
                    return false;
                }
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
        return true;
    }

    private static boolean mentionsLibraryOrLocations(String text) {
        String normalized = text.toLowerCase(Locale.ROOT).replace('_', '-').replace('.', '-');
        return normalized.contains("native-library") || normalized.contains("config-locations");
    }
}

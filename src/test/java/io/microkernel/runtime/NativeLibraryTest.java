package io.microkernel.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryTest {

    @TempDir
    Path dir;

    @Test
    void aConfiguredLibraryThatDoesNotExistIsRefusedWithItsPathAndARemedy() {
        Path missing = dir.resolve("libonnxruntime.so.1");

        assertThatThrownBy(() -> NativeLibrary.existingUserLibrary(missing))
                .isInstanceOf(RuntimeSetupException.class)
                .hasMessageContaining("native library " + missing.toAbsolutePath() + " does not exist")
                .hasMessageContaining("; remedy: set microkernel.runtime.native-library")
                .satisfies(e -> assertThat(((RuntimeSetupException) e).remedy())
                        .contains("unset it to use the bundled one"));
    }

    @Test
    void aFolderIsNotALibrary() {
        assertThatThrownBy(() -> NativeLibrary.existingUserLibrary(dir))
                .isInstanceOf(RuntimeSetupException.class)
                .hasMessageContaining(dir.toAbsolutePath() + " does not exist");
    }

    @Test
    void anExistingLibraryIsTakenByItsAbsolutePath() throws Exception {
        Path library = Files.createFile(dir.resolve("libonnxruntime.so.1"));

        assertThat(NativeLibrary.existingUserLibrary(library)).isEqualTo(library.toAbsolutePath());
    }
}

package io.microkernel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirLockTest {

    @TempDir
    Path dir;

    @Test
    void aSecondHolderIsRefusedWithTheDirNamedUntilTheFirstLetsGo() throws Exception {
        Path data = dir.resolve("data");
        try (DataDirLock first = DataDirLock.acquire(data)) {
            assertThat(first.held()).isTrue();
            assertThat(Files.readString(data.resolve(DataDirLock.FILE)))
                    .isEqualTo(Long.toString(ProcessHandle.current().pid()));
            assertThatThrownBy(() -> DataDirLock.acquire(data)).isInstanceOf(DataDirLockedException.class)
                    .hasMessageStartingWith("data dir " + data.toAbsolutePath() + " is in use by another process (pid ")
                    .hasMessageNotContaining("\n");
        }
        try (DataDirLock again = DataDirLock.acquire(data)) {
            assertThat(again.held()).isTrue();
            again.close();
            assertThat(again.held()).isFalse();
        }
    }

    @Test
    void aDataDirThatCannotBeCreatedIsRefusedWithTheReason() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "not a folder");
        assertThatThrownBy(() -> DataDirLock.acquire(file.resolve("data"))).isInstanceOf(DataDirLockedException.class)
                .hasMessageStartingWith("cannot lock data dir " + file.resolve("data"));
    }
}

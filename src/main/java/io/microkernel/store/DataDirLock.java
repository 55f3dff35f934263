package io.microkernel.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The exclusive lock one process holds on {@code microkernel.data-dir} for as long as it runs.
 *
 * <p>Two processes on one data dir each number samples, rounds and versions on their own and
 * overwrite each other (issue 10, defect 6). The lock is an operating-system lock
 * ({@link FileChannel#tryLock()}) on {@value #FILE} in the data dir, so it goes when its process
 * does, kill -9 included; the file holds the owner's pid for the message a second process prints.
 *
 * <p>Thread-safe; {@link #close()} releases the lock and is safe to call twice.
 */
public final class DataDirLock implements AutoCloseable {

    /** The lock file's name in the data dir. */
    public static final String FILE = ".microkernel.lock";

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock, creating the data dir when needed.
     *
     * @throws DataDirLockedException when another process (or this one) holds it, or it cannot be taken
     */
    public static DataDirLock acquire(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        Path file = dir.resolve(FILE);
        FileChannel channel = null;
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = tryLock(channel);
            if (lock == null) {
                String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
                channel.close();
                throw new DataDirLockedException("data dir " + dir + " is in use by another process"
                        + (owner.isEmpty() ? "" : " (pid " + owner + ")")
                        + ": expected a data dir no running process holds, found " + file + " locked;"
                        + " remedy: stop the other process or point microkernel.data-dir at another folder");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid())
                    .getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(true);
            return new DataDirLock(dir, channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new DataDirLockedException("cannot lock data dir " + dir + ": expected a writable folder, found "
                    + e.getClass().getSimpleName() + " (" + e.getMessage() + ");"
                    + " remedy: point microkernel.data-dir at a writable folder");
        }
    }

    /** Null when held elsewhere; this JVM holding it already counts as held elsewhere. */
    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing to release: the lock was never taken.
        }
    }

    /** The locked data dir, absolute. */
    public Path dir() {
        return dir;
    }

    /** Whether this object still holds the lock. */
    public boolean held() {
        return lock.isValid();
    }

    @Override
    public synchronized void close() {
        if (!channel.isOpen()) {
            return;
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel below releases it too.
        }
        closeQuietly(channel);
    }
}

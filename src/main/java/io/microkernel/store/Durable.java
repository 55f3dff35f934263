package io.microkernel.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * File operations that survive a crash or power loss at any point: write, fsync, rename. The store
 * and the training journal and round history share these, so every file the service keeps is
 * made durable the same way.
 *
 * <p>Stateless and thread-safe; callers serialise writes to the same file themselves.
 */
public final class Durable {

    private Durable() {
    }

    /** Copies a file and forces its bytes to disk, so a later rename never exposes a short file. */
    static void copy(Path source, Path target) throws IOException {
        Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        fsync(target);
    }

    static void write(Path target, byte[] content) throws IOException {
        Files.write(target, content);
        fsync(target);
    }

    /**
     * Replaces {@code target} with {@code content}: readers see the old content or the new one,
     * never a mix, and the new content is on disk before the name points at it.
     */
    static void replace(Path target, String content) throws IOException {
        replace(target, content.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Replaces {@code target} with {@code content}: readers see the old content or the new one,
     * never a mix, and the new content is on disk before the name points at it. A crash can leave
     * {@code <name>.tmp} beside the target; readers skip it and the next replace overwrites it.
     */
    public static void replace(Path target, byte[] content) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(temp, content);
        moveIntoPlace(temp, target);
    }

    /**
     * Renames a fully written file over {@code target}: its bytes reach the disk before the name
     * points at them, and the rename itself is recorded in the folder.
     */
    public static void moveIntoPlace(Path written, Path target) throws IOException {
        fsync(written);
        Files.move(written, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsync(target.getParent());
    }

    /** Renames a fully written folder into place and records the rename in its parent folder. */
    static void publishFolder(Path temp, Path target) throws IOException {
        fsync(temp);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        fsync(target.getParent());
    }

    /** Forces a file's bytes, or a folder's entries (new, renamed or deleted files), to disk. */
    public static void fsync(Path path) throws IOException {
        // Folders are opened read-only: that is what Linux accepts for fsync on a directory.
        StandardOpenOption mode = Files.isDirectory(path) ? StandardOpenOption.READ : StandardOpenOption.WRITE;
        try (FileChannel channel = FileChannel.open(path, mode)) {
            channel.force(true);
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Deletes a folder tree; a missing folder is not an error. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted((a, b) -> b.getNameCount() - a.getNameCount())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    static void copyFolderFiles(Path source, Path target) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(source, Files::isRegularFile)) {
            for (Path file : files) {
                copy(file, target.resolve(file.getFileName().toString()));
            }
        }
    }
}

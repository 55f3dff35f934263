package io.microkernel.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import org.jboss.logging.Logger;

/**
 * Native libraries copied out of the classpath once, and reused by every later start while the copy
 * on disk is unchanged.
 *
 * <p>A set of libraries goes to {@code root/<prefix>-<key>}, where the key is a CRC-32 over every
 * library's name, size and CRC-32 as the jar records them; another build of the libraries gets another
 * folder. Before reusing a folder, every file in it is checked against its jar entry: same size, same
 * CRC-32 computed over the file's bytes. CRC-32 and not SHA-256, because the jar holds CRC-32s for
 * free while a SHA-256 of the bundled bytes costs inflating them at every start, which is what
 * extracting costs; the check catches a truncated, stale or overwritten copy. What keeps other users
 * from planting a library is the folder itself: {@code root} is created owner-only ({@code 0700}) and
 * reused only when it belongs to this user and nobody else may write it.
 *
 * <p>A missing or failed copy is written into a fresh folder beside it and renamed into place, so a
 * process never loads a half-written library, and two processes starting together both end up with a
 * good folder. Thread-safe in that sense; callers normally use it once per process.
 */
final class NativeCache {

    private static final Logger LOG = Logger.getLogger(NativeCache.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /** One library in the classpath: its resource name, the file name it gets, and what the jar says of it. */
    record Bundled(String resource, String fileName, long size, long crc) {
    }

    /** The folder holding the libraries, and whether it was already there and intact. */
    record Materialized(Path folder, boolean reused) {
    }

    private final Path root;

    NativeCache(Path root) {
        this.root = root.toAbsolutePath();
    }

    /**
     * The libraries described from the classpath: their size and CRC-32 from the jar's directory (no
     * bytes read), or from reading them when the classpath is a plain folder. A resource that is not
     * there is left out.
     */
    static List<Bundled> describe(ClassLoader loader, List<String> resources) throws IOException {
        List<Bundled> bundled = new ArrayList<>();
        for (String resource : resources) {
            URL url = loader.getResource(resource);
            if (url == null) {
                continue;
            }
            String fileName = resource.substring(resource.lastIndexOf('/') + 1);
            URLConnection connection = url.openConnection();
            if (connection instanceof JarURLConnection jar) {
                jar.setUseCaches(false);
                JarEntry entry = jar.getJarEntry();
                if (entry.getCrc() >= 0 && entry.getSize() >= 0) {
                    bundled.add(new Bundled(resource, fileName, entry.getSize(), entry.getCrc()));
                    continue;
                }
            }
            try (InputStream in = url.openStream()) {
                CRC32 crc = new CRC32();
                long size = new CheckedInputStream(in, crc).transferTo(OutputStream.nullOutputStream());
                bundled.add(new Bundled(resource, fileName, size, crc.getValue()));
            }
        }
        return bundled;
    }

    /**
     * The folder holding {@code libraries}: reused when an intact copy is there, else extracted anew.
     *
     * @param prefix names the folder, e.g. {@code ort-1.24.1-linux-x86_64}
     */
    Materialized materialize(ClassLoader loader, String prefix, List<Bundled> libraries) throws IOException {
        UserPrincipal me = ensurePrivateRoot();
        Path folder = root.resolve(prefix + "-" + key(libraries));
        String problem = Files.exists(folder, LinkOption.NOFOLLOW_LINKS) ? check(folder, libraries, me) : "absent";
        if (problem == null) {
            LOG.debugf("reusing the native libraries in %s", folder);
            return new Materialized(folder, true);
        }
        if (!problem.equals("absent")) {
            LOG.infof("extracting the native libraries again into %s: %s", folder, problem);
        }
        Path fresh = Files.createTempDirectory(root, ".extracting-");
        try {
            for (Bundled library : libraries) {
                extract(loader, library, fresh.resolve(library.fileName()));
            }
            deleteTree(folder);
            moveIntoPlace(fresh, folder);
        } finally {
            deleteTree(fresh);
        }
        String after = check(folder, libraries, me);
        if (after != null) {
            throw new IOException("the native libraries in " + folder + " fail their check right after extraction: " + after);
        }
        return new Materialized(folder, false);
    }

    /** Why {@code folder} cannot be reused, or {@code null} when every library in it matches the jar. */
    static String check(Path folder, List<Bundled> libraries, UserPrincipal me) throws IOException {
        String owner = privateProblem(folder, me);
        if (owner != null) {
            return owner;
        }
        for (Bundled library : libraries) {
            Path file = folder.resolve(library.fileName());
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return library.fileName() + " is missing";
            }
            long size = Files.size(file);
            if (size != library.size()) {
                return library.fileName() + " has " + size + " bytes, expected " + library.size();
            }
            long crc = crc32(file);
            if (crc != library.crc()) {
                return String.format("%s has CRC-32 %08x, expected %08x", library.fileName(), crc, library.crc());
            }
        }
        return null;
    }

    static long crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                crc.update(buffer);
                buffer.clear();
            }
        }
        return crc.getValue();
    }

    private static String key(List<Bundled> libraries) {
        CRC32 key = new CRC32();
        for (Bundled library : libraries) {
            key.update((library.fileName() + ":" + library.size() + ":" + library.crc() + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return String.format("%08x", key.getValue());
    }

    private static void extract(ClassLoader loader, Bundled library, Path target) throws IOException {
        try (InputStream in = loader.getResourceAsStream(library.resource())) {
            if (in == null) {
                throw new IOException(library.resource() + " vanished from the classpath");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel channel = FileChannel.open(target, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private static void moveIntoPlace(Path fresh, Path folder) throws IOException {
        try {
            Files.move(fresh, folder, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            // Another process put its copy there first; the check after this decides whether it is good.
            LOG.debugf("another process extracted into %s first", folder);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + fresh + " to " + folder + " atomically", e);
        }
    }

    /** Creates the root owner-only when missing; returns this process's user, as the file system names it. */
    private UserPrincipal ensurePrivateRoot() throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(root.getParent());
            try {
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException e) {
                // Created by a process starting at the same time; checked below like any other.
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(root);
            }
        }
        // Who this process is, as the file system sees it (user.name need not match a passwd entry).
        Path probe = Files.createTempFile(root, ".owner-", "");
        UserPrincipal me;
        try {
            me = Files.getOwner(probe, LinkOption.NOFOLLOW_LINKS);
        } finally {
            Files.deleteIfExists(probe);
        }
        String problem = privateProblem(root, me);
        if (problem != null) {
            throw new IOException(problem);
        }
        return me;
    }

    /** Why {@code path} may hold files another user wrote, or {@code null} when it is ours alone. */
    private static String privateProblem(Path path, UserPrincipal me) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            return Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? null : path + " is not a folder";
        }
        PosixFileAttributes attributes = view.readAttributes();
        if (!attributes.isDirectory()) {
            return path + " is not a folder";
        }
        if (!attributes.owner().equals(me)) {
            return path + " belongs to " + attributes.owner().getName() + ", expected " + me.getName();
        }
        Set<PosixFilePermission> permissions = attributes.permissions();
        if (permissions.contains(PosixFilePermission.GROUP_WRITE) || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
            return path + " may be written by others (" + PosixFilePermissions.toString(permissions) + ")";
        }
        return null;
    }

    private static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

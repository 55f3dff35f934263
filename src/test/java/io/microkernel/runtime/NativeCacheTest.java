package io.microkernel.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeCacheTest {

    private static final List<String> RESOURCES = List.of("natives/libcore.so.1", "natives/libjni.so");

    @TempDir
    Path dir;

    private Path root;
    private byte[] core;
    private byte[] jni;

    @BeforeEach
    void bytes() {
        root = dir.resolve("cache");
        core = random(300_000, 1);
        jni = random(20_000, 2);
    }

    @Test
    void aSecondStartReusesTheIntactCopyWithoutWritingIt() throws Exception {
        try (URLClassLoader loader = jarLoader("a.jar", core, jni)) {
            List<NativeCache.Bundled> libraries = NativeCache.describe(loader, RESOURCES);
            NativeCache cache = new NativeCache(root);

            NativeCache.Materialized first = cache.materialize(loader, "ort-test", libraries);
            Object inode = Files.getAttribute(first.folder().resolve("libcore.so.1"), "unix:ino");
            var modified = Files.getLastModifiedTime(first.folder().resolve("libcore.so.1"));
            NativeCache.Materialized second = new NativeCache(root).materialize(loader, "ort-test", libraries);

            assertThat(first.reused()).isFalse();
            assertThat(second.reused()).isTrue();
            assertThat(second.folder()).isEqualTo(first.folder());
            assertThat(Files.getAttribute(second.folder().resolve("libcore.so.1"), "unix:ino")).isEqualTo(inode);
            assertThat(Files.getLastModifiedTime(second.folder().resolve("libcore.so.1"))).isEqualTo(modified);
            assertThat(Files.readAllBytes(second.folder().resolve("libcore.so.1"))).isEqualTo(core);
            assertThat(Files.readAllBytes(second.folder().resolve("libjni.so"))).isEqualTo(jni);
        }
    }

    @Test
    void theJarsSizesAndCrcsDescribeTheLibrariesWithoutExtractingThem() throws Exception {
        try (URLClassLoader loader = jarLoader("a.jar", core, jni)) {
            List<NativeCache.Bundled> libraries = NativeCache.describe(loader,
                    List.of("natives/libcore.so.1", "natives/absent.so", "natives/libjni.so"));

            assertThat(libraries).extracting(NativeCache.Bundled::fileName).containsExactly("libcore.so.1", "libjni.so");
            assertThat(libraries.get(0).size()).isEqualTo(core.length);
            Path file = Files.write(dir.resolve("core"), core);
            assertThat(libraries.get(0).crc()).isEqualTo(NativeCache.crc32(file));
        }
    }

    @Test
    void aCopyChangedOnDiskIsExtractedAgainEvenWithItsSizeKept() throws Exception {
        try (URLClassLoader loader = jarLoader("a.jar", core, jni)) {
            List<NativeCache.Bundled> libraries = NativeCache.describe(loader, RESOURCES);
            Path folder = new NativeCache(root).materialize(loader, "ort-test", libraries).folder();
            byte[] tampered = core.clone();
            tampered[1234] ^= 0x40;
            Files.write(folder.resolve("libcore.so.1"), tampered);

            assertThat(NativeCache.check(folder, libraries, Files.getOwner(folder)))
                    .startsWith("libcore.so.1 has CRC-32 ").contains("expected");
            NativeCache.Materialized again = new NativeCache(root).materialize(loader, "ort-test", libraries);

            assertThat(again.reused()).isFalse();
            assertThat(again.folder()).isEqualTo(folder);
            assertThat(Files.readAllBytes(folder.resolve("libcore.so.1"))).isEqualTo(core);
        }
    }

    @Test
    void aTruncatedOrMissingLibraryIsExtractedAgain() throws Exception {
        try (URLClassLoader loader = jarLoader("a.jar", core, jni)) {
            List<NativeCache.Bundled> libraries = NativeCache.describe(loader, RESOURCES);
            Path folder = new NativeCache(root).materialize(loader, "ort-test", libraries).folder();
            Files.write(folder.resolve("libcore.so.1"), new byte[10]);
            Files.delete(folder.resolve("libjni.so"));

            assertThat(NativeCache.check(folder, libraries, Files.getOwner(folder)))
                    .isEqualTo("libcore.so.1 has 10 bytes, expected 300000");
            assertThat(new NativeCache(root).materialize(loader, "ort-test", libraries).reused()).isFalse();
            assertThat(Files.readAllBytes(folder.resolve("libjni.so"))).isEqualTo(jni);
        }
    }

    @Test
    void otherLibrariesGetTheirOwnFolder() throws Exception {
        try (URLClassLoader a = jarLoader("a.jar", core, jni); URLClassLoader b = jarLoader("b.jar", random(300_000, 3), jni)) {
            Path first = new NativeCache(root).materialize(a, "ort-test", NativeCache.describe(a, RESOURCES)).folder();
            NativeCache.Materialized second = new NativeCache(root).materialize(b, "ort-test", NativeCache.describe(b, RESOURCES));

            assertThat(second.reused()).isFalse();
            assertThat(second.folder()).isNotEqualTo(first);
            assertThat(Files.readAllBytes(first.resolve("libcore.so.1"))).isEqualTo(core);
        }
    }

    @Test
    void aFolderOthersMayWriteIsNotTrusted() throws Exception {
        try (URLClassLoader loader = jarLoader("a.jar", core, jni)) {
            List<NativeCache.Bundled> libraries = NativeCache.describe(loader, RESOURCES);
            Path folder = new NativeCache(root).materialize(loader, "ort-test", libraries).folder();
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxrwxrwx"));

            assertThat(NativeCache.check(folder, libraries, Files.getOwner(folder))).contains("may be written by others");
            NativeCache.Materialized again = new NativeCache(root).materialize(loader, "ort-test", libraries);
            assertThat(again.reused()).isFalse();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(again.folder()))).isEqualTo("rwx------");

            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
            assertThatThrownBy(() -> new NativeCache(root).materialize(loader, "ort-test", libraries))
                    .isInstanceOf(IOException.class).hasMessageContaining("may be written by others");
        }
    }

    @Test
    void theRootIsCreatedOwnerOnly() throws Exception {
        try (URLClassLoader loader = jarLoader("a.jar", core, jni)) {
            new NativeCache(root).materialize(loader, "ort-test", NativeCache.describe(loader, RESOURCES));

            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root))).isEqualTo("rwx------");
            try (var left = Files.list(root)) {
                assertThat(left).extracting(p -> p.getFileName().toString()).singleElement()
                        .satisfies(name -> assertThat(name).startsWith("ort-test-"));
            }
        }
    }

    @Test
    void theBundledNativesOfThisPlatformAreTheCoreLibraryItsCompanionsAndTheJniLibrary() throws Exception {
        List<NativeCache.Bundled> libraries = NativeLibrary.bundled(getClass().getClassLoader(), NativePlatform.current());

        assertThat(libraries.get(0).fileName()).isEqualTo(NativeLibrary.CORE_LIBRARY);
        assertThat(libraries).extracting(NativeCache.Bundled::fileName).contains(NativeLibrary.JNI_LIBRARY)
                .contains("libonnxruntime_providers_shared.so");
        assertThat(libraries).allSatisfy(l -> assertThat(l.size()).isPositive());
    }

    @Test
    void theLoadedRuntimeUsesTheKeptFolderForBothLibraries() {
        Path core = OrtRuntime.start(Optional.empty()).library();

        assertThat(core.getParent().getParent()).isEqualTo(NativeLibrary.cacheRoot().toAbsolutePath());
        assertThat(System.getProperty(NativeLibrary.JNI_PATH_PROPERTY))
                .isEqualTo(core.resolveSibling(NativeLibrary.JNI_LIBRARY).toString());
    }

    @Test
    void thePlatformIsChosenByTheArchitecture() {
        assertThat(NativePlatform.of("Linux", "amd64")).isEqualTo(NativePlatform.LINUX_X86_64);
        assertThat(NativePlatform.of("Linux", "x86_64")).isEqualTo(NativePlatform.LINUX_X86_64);
        assertThat(NativePlatform.of("Linux", "aarch64")).isEqualTo(NativePlatform.LINUX_ARM64);
        assertThat(NativePlatform.LINUX_ARM64.coreFolders()).containsExactly("org/bytedeco/onnxruntime/linux-arm64/");
        assertThat(NativePlatform.LINUX_ARM64.jniResource()).isEqualTo("ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so");
        assertThatThrownBy(() -> NativePlatform.of("Mac OS X", "aarch64")).isInstanceOf(RuntimeSetupException.class)
                .hasMessageContaining("no bundled ONNX Runtime for Mac OS X on aarch64: expected Linux on amd64 (x86_64) or aarch64 (arm64)");
    }

    @Test
    void bothPlatformsAreBundled() throws Exception {
        ClassLoader loader = getClass().getClassLoader();
        for (NativePlatform platform : List.of(NativePlatform.LINUX_X86_64, NativePlatform.LINUX_ARM64)) {
            assertThat(NativeLibrary.bundled(loader, platform)).extracting(NativeCache.Bundled::fileName)
                    .as(platform.name()).contains(NativeLibrary.CORE_LIBRARY, NativeLibrary.JNI_LIBRARY);
        }
    }

    private URLClassLoader jarLoader(String name, byte[] coreBytes, byte[] jniBytes) throws IOException {
        Path jar = dir.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("natives/libcore.so.1"));
            out.write(coreBytes);
            out.closeEntry();
            out.putNextEntry(new JarEntry("natives/libjni.so"));
            out.write(jniBytes);
            out.closeEntry();
        }
        return new URLClassLoader(new java.net.URL[] {jar.toUri().toURL()}, null);
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}

package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data dir on a 3 MB tmpfs the test mounts (so it runs only as root, and is skipped with a
 * message elsewhere; {@code SampleJournalTest} covers the same path with a simulated full disk):
 * filled up, {@code POST /samples} answers 507 and stores nothing, inference goes on, and once
 * space is freed samples are accepted again without a restart. After a restart every acknowledged
 * sample is there.
 */
class DiskFullIT {

    private static final String SAMPLES = "{\"samples\":[{\"input\":[0.1,0.2,0.3,0.4],\"label\":\"a\"},"
            + "{\"input\":[0.4,0.3,0.2,0.1],\"label\":\"b\"}]}";
    private static final String INFER = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\","
            + "\"data\":[0.1,0.2,0.3,0.4]}]}";

    @TempDir
    Path dir;

    private PackagedApp app;
    private Path mount;

    @AfterEach
    void stop() throws Exception {
        if (app != null) {
            app.close();
        }
        if (mount != null) {
            run("umount", mount.toString());
        }
    }

    @Test
    void aFullDiskIs507KeepsServingAndRecoversWhenSpaceReturns() throws Exception {
        Path artifacts = PackagedApp.tinyClassifier(dir.resolve("artifacts"));
        Path data = Files.createDirectories(dir.resolve("small-disk"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", data.toString()) == 0,
                "mounting a 3 MB tmpfs needs root (CAP_SYS_ADMIN); SampleJournalTest simulates the full disk instead");
        mount = data;
        app = new PackagedApp("disk-full-it");
        app.start(artifacts, data, "first");
        int acknowledged = 0;
        assertThat(postSamples().statusCode()).isEqualTo(202);
        acknowledged += 2;

        Path filler = data.resolve("filler");
        fill(filler);
        // The journal's last page may still have room: what fits there is stored and acknowledged.
        Response first = postSamples();
        for (int i = 0; i < 100 && first.statusCode() == 202; i++) {
            acknowledged += 2;
            first = postSamples();
        }
        assertThat(first.statusCode()).as(first.asString()).isEqualTo(507);
        int refused = 1;
        for (int i = 0; i < 5; i++) {
            Response full = postSamples();
            assertThat(full.statusCode()).as(full.asString()).isEqualTo(507);
            assertThat(full.jsonPath().getString("type")).isEqualTo("urn:microkernel:problem:insufficient-storage");
            assertThat(full.jsonPath().getString("detail")).contains("found it full");
            assertThat(full.header("Retry-After")).isNotBlank();
            refused++;
            given().port(app.port()).contentType(ContentType.JSON).body(INFER).post("/v2/models/default/infer")
                    .then().statusCode(200);
        }
        assertThat(stored()).isEqualTo(acknowledged);

        Files.delete(filler);
        assertThat(postSamples().statusCode()).isEqualTo(202);
        acknowledged += 2;
        assertThat(stored()).isEqualTo(acknowledged);

        app.close();
        app.start(artifacts, data, "restart");
        long afterRestart = stored();
        Files.writeString(Path.of("target", "disk-full-it", "figures.txt"), "acknowledged=" + acknowledged
                + " refusedWith507=" + refused + " storedAfterRestart=" + afterRestart + " lost=" + (acknowledged - afterRestart) + "\n");
        assertThat(afterRestart).as("samples after a restart: every acknowledged one, none of the %d refused", refused)
                .isEqualTo(acknowledged);
    }

    private Response postSamples() {
        return given().port(app.port()).contentType(ContentType.JSON).body(SAMPLES).post("/v1/models/default/samples");
    }

    private int stored() {
        return given().port(app.port()).get("/v1/models/default/samples").then().statusCode(200)
                .extract().jsonPath().getInt("total");
    }

    /** Writes zeros until the filesystem says it is full. */
    private static void fill(Path filler) {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            assertThat(full).hasMessageContaining("No space left on device");
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getInputStream().transferTo(OutputStream.nullOutputStream());
        return process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }
}

package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes on one data dir (issue 10, defect 6): they numbered samples on their own and a
 * restart dropped one. The second now stops at once with one line naming the dir and the owner,
 * exit status 1, and the first goes on serving.
 */
class DataDirLockIT {

    @TempDir
    Path dir;

    private PackagedApp first;
    private PackagedApp second;

    @AfterEach
    void stop() throws InterruptedException {
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
    }

    @Test
    void aSecondServerOnTheSameDataDirFailsFastAndTheFirstKeepsServing() throws Exception {
        Path artifacts = PackagedApp.tinyClassifier(dir.resolve("artifacts"));
        Path data = dir.resolve("data");
        first = new PackagedApp("data-dir-lock-it");
        first.start(artifacts, data, "first");

        second = new PackagedApp("data-dir-lock-it");
        PackagedApp.Finished refused = second.startToEnd(artifacts, data, "second");

        String expected = "data dir " + data.toAbsolutePath() + " is in use by another process (pid "
                + first.process().pid() + ")";
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output().lines().filter(l -> l.contains("is in use by another process")))
                .as("one line says why").singleElement().asString().contains(expected);
        assertThat(refused.output()).doesNotContain("Exception");
        given().port(first.port()).get("/v2/health/ready").then().statusCode(200);
        assertThat(first.postSamples(10, 1)).isEqualTo(10);
    }
}

package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar leaves {@code application.properties} out (reading it from the uber-jar at start-up
 * opened the whole jar as a file system); Quarkus records its values in the build. This checks that
 * the values still apply in the packaged jar: a plain key ({@code quarkus.http.limits.max-body-size}),
 * a MicroProfile key only SmallRye OpenAPI reads ({@code mp.openapi.filter}) and a {@code %edge} key
 * under the edge profile ({@code quarkus.vertx.event-loops-pool-size=1}).
 */
class PackagedConfigIT {

    @TempDir
    Path dir;

    @Test
    void theJarCarriesNoApplicationPropertiesAndItsValuesStillApply() throws Exception {
        try (ZipFile jar = new ZipFile(PackagedApp.RUNNER.toFile())) {
            assertThat(jar.getEntry("application.properties")).as("application.properties in %s", PackagedApp.RUNNER).isNull();
            assertThat(jar.getEntry("io/microkernel/Main.class")).isNotNull();
        }
        try (PackagedApp app = new PackagedApp("packaged-config")) {
            app.start(Path.of("models", "default").toAbsolutePath(), dir.resolve("data"), "edge",
                    List.of("-Dquarkus.profile=edge"));
            // quarkus.vertx.event-loops-pool-size=1 under %edge (the default is twice the cores, at least 2).
            assertThat(threadNames(app.process().pid())).as("threads of the edge profile's process")
                    .filteredOn(name -> name.startsWith("vert.x-eventloo")).hasSize(1);
            // quarkus.http.limits.max-body-size=8M: a 9 MB body is refused before it is read.
            byte[] nineMegabytes = new byte[9 << 20];
            java.util.Arrays.fill(nineMegabytes, (byte) ' ');
            given().port(app.port()).contentType("application/json").body(nineMegabytes)
                    .post("/v2/models/default/infer").then().statusCode(413);
            // mp.openapi.filter=io.microkernel.api.OpenApiVerbPaths: the KServe verbs under their own paths.
            given().port(app.port()).accept("application/json").get("/q/openapi").then().statusCode(200)
                    .body("paths", org.hamcrest.Matchers.hasKey("/v1/models/{model}:predict"));
        }
    }

    /** The names of a Linux process's threads ({@code /proc/<pid>/task/<tid>/comm}, cut at 15 characters). */
    private static List<String> threadNames(long pid) throws Exception {
        List<String> names = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                names.add(Files.readString(task.resolve("comm")).trim());
            }
        }
        return names;
    }
}

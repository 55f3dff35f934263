package io.microkernel.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The console's files are served from the jar with the right content types, every module it imports
 * resolves, and its read endpoints answer; over the tiny classifier of {@link TrainingProfiles.Open}.
 */
@QuarkusTest
@TestProfile(TrainingProfiles.Open.class)
class ConsoleApiTest {

    private static final Pattern IMPORT = Pattern.compile("(?m)^import .*? from '([^']+)';|^import '([^']+)';");
    /** Files the page links to by relative path (a data: icon is not fetched). */
    private static final Pattern LINKED = Pattern.compile("(?:href|src)=\"(?![a-z]+:)([^\"#]+)\"");

    @Test
    void consoleRedirectsToItsFolderWhichServesThePage() {
        given().redirects().follow(false).get("/console").then().statusCode(301).header("Location", "console/");
        given().get("/console/").then().statusCode(200).contentType(startsWith("text/html"))
                .body(containsString("<script type=\"module\" src=\"js/app.js\"></script>"));
    }

    @Test
    void everyFileThePageLoadsIsServedWithItsContentType() {
        URI page = URI.create("/console/");
        String html = given().get(page.toString()).then().statusCode(200).extract().asString();
        Set<String> seen = new HashSet<>();
        Deque<URI> scripts = new ArrayDeque<>();
        Matcher links = LINKED.matcher(html);
        while (links.find()) {
            URI linked = page.resolve(links.group(1));
            seen.add(linked.getPath());
            if (linked.getPath().endsWith(".css")) {
                given().get(linked.getPath()).then().statusCode(200).contentType(startsWith("text/css"));
            } else {
                scripts.add(linked);
            }
        }
        // Follow the module graph: a broken relative import leaves the page blank, with no error here.
        while (!scripts.isEmpty()) {
            URI script = scripts.poll();
            String source = given().get(script.getPath()).then().statusCode(200)
                    .contentType(startsWith("text/javascript")).extract().asString();
            Matcher imports = IMPORT.matcher(source);
            while (imports.find()) {
                URI next = script.resolve(imports.group(1) != null ? imports.group(1) : imports.group(2));
                if (seen.add(next.getPath())) {
                    scripts.add(next);
                }
            }
        }
        assertThat(seen).contains("/console/console.css", "/console/js/app.js", "/console/js/pages/rounds.js",
                "/console/js/pages/serving.js", "/webjars/uplot/1.6.30/dist/uPlot.min.css",
                "/webjars/uplot/1.6.30/dist/uPlot.esm.js");
    }

    @Test
    void overviewNamesRuntimeLossClassesAndParameterCounts() {
        given().get("/console/api/models").then().statusCode(200).body("models", equalTo(List.of("default")));
        JsonPath overview = given().get("/console/api/models/default/overview").then().statusCode(200).extract().jsonPath();
        assertThat(overview.getString("model")).isEqualTo("default");
        assertThat(overview.getInt("active_version")).isGreaterThanOrEqualTo(1);
        assertThat(overview.getString("device")).isEqualTo("cpu");
        assertThat(overview.getString("onnxruntime_native")).isEqualTo(overview.getString("onnxruntime_java")).isNotBlank();
        assertThat(overview.getString("loss")).isEqualTo("cross-entropy");
        assertThat(overview.getList("classes")).containsExactly("a", "b", "c");
        List<Integer> trainable = overview.getList("trainable_parameters.tensors.count", Integer.class);
        assertThat(overview.getLong("trainable_parameters.values")).isPositive()
                .isEqualTo(trainable.stream().mapToLong(Integer::longValue).sum());
        assertThat(overview.getList("trainable_parameters.tensors.name", String.class)).allMatch(n -> n.startsWith("head."));
        assertThat(overview.getLong("frozen_parameters.values")).isPositive();
        given().get("/console/api/models/other/overview").then().statusCode(404).body("detail", containsString("'other'"));
    }

    @Test
    void replicasListThisProcessWithTheVersionItServes() {
        int active = given().get("/v1/models/default/versions").then().extract().jsonPath().getInt("active");
        given().get("/console/api/models/default/replicas").then().statusCode(200)
                .body("mode", equalTo("single"))
                .body("replicas.size()", equalTo(1))
                .body("replicas[0].self", equalTo(true))
                .body("replicas[0].ready", equalTo(true))
                .body("replicas[0].version", equalTo(active));
    }

    @Test
    void aLoopbackClientMayChangeState() {
        given().get("/console/api/access").then().statusCode(200)
                .body("allowed", equalTo(true))
                .body("client", startsWith("127."))
                .body("token_accepted", equalTo(false));
        given().get("/console/api/models").then().body("models", everyItem(equalTo("default")));
    }
}

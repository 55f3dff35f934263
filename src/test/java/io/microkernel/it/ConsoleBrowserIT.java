package io.microkernel.it;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microkernel.demo.ShapeImages;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The operators' console in a real headless Chromium, driven through the system chromedriver, against
 * the packaged application on {@code models/default}: teach it from the page, start a round, watch
 * the loss curve draw while the round runs, see the promotion, roll back from the page and check the
 * active version over the API. Screenshots of every page go to {@code target/console-screenshots/}.
 * Skipped where Chromium or chromedriver is missing (Debian's {@code chromium} and
 * {@code chromium-driver}; other paths through {@code -Dconsole.chromium} and {@code -Dconsole.chromedriver}).
 */
class ConsoleBrowserIT {

    private static final Path CHROMIUM = Path.of(System.getProperty("console.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("console.chromedriver", "/usr/bin/chromedriver"));
    private static final Path SHOTS = Path.of("target", "console-screenshots");
    private static final Duration PAGE = Duration.ofSeconds(30);
    private static final Duration ROUND = Duration.ofMinutes(3);
    private static final String TOKEN = "console-test-token";

    @TempDir
    Path dir;

    private PackagedApp app;
    private WebDriver browser;

    @BeforeAll
    static void needsChromium() {
        assumeTrue(chromiumInstalled(), "ConsoleBrowserIT skipped: " + chromiumMissing());
    }

    /** Whether Chromium and chromedriver are there (other browser checks, such as FleetIT's, ask too). */
    static boolean chromiumInstalled() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    static String chromiumMissing() {
        return "expected Chromium at " + CHROMIUM + " and chromedriver at " + CHROMEDRIVER
                + " (Debian packages chromium and chromium-driver; .ci/run installs them)";
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (browser != null) {
            browser.quit();
        }
        if (app != null) {
            app.close();
        }
    }

    @Test
    void teachTrainWatchTheLossPromoteAndRollBackFromThePage() throws Exception {
        Path samples = dir.resolve("target-style-samples.json");
        new ObjectMapper().writeValue(samples.toFile(),
                Map.of("samples", ShapeImages.generate(ShapeImages.Domain.TARGET, 200, 1).asJsonSamples()));
        app = new PackagedApp("console-browser-it");
        // The page is under test here, not the gate: a 37-sample holdout's per-class recall (and the
        // reference guard) may refuse a random-seeded round, so the gate only asks for a better candidate.
        app.start(Path.of("models", "default").toAbsolutePath(), dir.resolve("data"), "default-model",
                List.of("-Dmicrokernel.training.gate.max-class-recall-drop=1.0",
                        "-Dmicrokernel.training.reference.max-drop=1.0"));
        browser = chromium();

        browser.get("http://127.0.0.1:" + app.port() + "/console");
        assertThat(text(By.id("active-version"))).isEqualTo("1");
        assertThat(text(By.id("trainable-count"))).isEqualTo("6,150");
        assertThat(browser.findElement(By.id("access-banner")).isDisplayed()).isFalse();
        screenshot("model");
        open("versions");
        await().atMost(PAGE).until(() -> !browser.findElements(By.cssSelector("#lineage [data-version='1']")).isEmpty());
        open("samples");
        assertThat(text(By.id("samples-total"))).isEqualTo("0");

        // Teach from the page: the file of labelled samples, then a round long enough to watch.
        browser.findElement(By.id("teach-file")).sendKeys(samples.toAbsolutePath().toString());
        browser.findElement(By.id("teach-epochs")).sendKeys("60");
        browser.findElement(By.id("teach-batch")).sendKeys("8");
        browser.findElement(By.id("teach-send")).click();
        await().atMost(PAGE).until(() -> browser.getCurrentUrl().endsWith("#rounds/1"));

        List<Integer> pointsWhileRunning = watchTheLiveLoss();
        assertThat(pointsWhileRunning).as("points of the live loss curve seen while round 1 ran").hasSizeGreaterThan(1);
        assertThat(pointsWhileRunning.get(pointsWhileRunning.size() - 1)).isGreaterThan(pointsWhileRunning.get(0));

        await().atMost(ROUND).until(() -> !browser.findElements(By.id("gate-reason")).isEmpty());
        assertThat(text(By.cssSelector("#round-state .badge"))).isEqualTo("promoted");
        assertThat(text(By.id("gate-reason"))).startsWith("promoted: accuracy");
        assertThat(browser.findElement(By.id("recall-chart")).getAttribute("data-classes")).isEqualTo("6");
        assertThat(browser.findElements(By.cssSelector("#epoch-loss canvas"))).isNotEmpty();
        assertThat(browser.findElements(By.cssSelector("#recall-chart canvas"))).isNotEmpty();
        assertThat(browser.findElement(By.cssSelector("td[data-metric='accuracy'][data-side='candidate']")).getText()).endsWith("%");
        // The finished round as anyone opening it later sees it (the README's picture).
        browser.navigate().refresh();
        await().atMost(PAGE).until(() -> !browser.findElements(By.cssSelector("#recall-chart canvas")).isEmpty());
        assertThat(browser.findElements(By.id("live-loss"))).isEmpty();
        screenshot("rounds");
        assertThat(activeVersion()).isEqualTo(2);

        // Roll back from the Versions page; the API agrees.
        open("versions");
        await().atMost(PAGE).until(() -> !browser.findElements(By.cssSelector("button[data-activate='1']")).isEmpty());
        assertThat(browser.findElement(By.cssSelector("#lineage .node.active")).getAttribute("data-version")).isEqualTo("2");
        browser.findElement(By.cssSelector("button[data-activate='1']")).click();
        await().atMost(PAGE).until(() -> text(By.id("activation-status")).contains("v1 is active (was v2)"));
        assertThat(activeVersion()).isEqualTo(1);
        assertThat(browser.findElement(By.cssSelector("#lineage .node.active")).getAttribute("data-version")).isEqualTo("1");
        screenshot("versions");

        open("rounds");
        await().atMost(PAGE).until(() -> !browser.findElements(By.cssSelector("tr[data-round='1']")).isEmpty());
        assertThat(text(By.cssSelector("tr[data-round='1'] .badge"))).isEqualTo("promoted");
        screenshot("rounds-list");

        // A round started from the Rounds page shows its epoch and step while it runs, and its cancel
        // button ends it: the round is recorded cancelled and the served version stays.
        browser.findElement(By.id("round-epochs")).sendKeys("2000");
        browser.findElement(By.id("round-batch")).sendKeys("8");
        browser.findElement(By.id("start-round")).click();
        await().atMost(PAGE).until(() -> browser.getCurrentUrl().endsWith("#rounds/2"));
        await().atMost(ROUND).ignoreException(StaleElementReferenceException.class)
                .until(() -> text(By.id("live-epoch")).matches("\\d+ / 2000") && text(By.id("live-step")).matches("[1-9]\\d* / \\d+"));
        browser.findElement(By.id("cancel-round")).click();
        await().atMost(ROUND).ignoreException(StaleElementReferenceException.class)
                .until(() -> text(By.cssSelector("#round-state .badge")).equals("cancelled"));
        assertThat(activeVersion()).isEqualTo(1);
        open("samples");
        await().atMost(PAGE).until(() -> text(By.id("samples-total")).equals("200"));
        assertThat(browser.findElements(By.cssSelector("#label-chart canvas"))).isNotEmpty();
        screenshot("samples");
        servingPageShowsTraffic();
    }

    @Test
    void withoutATrustedLoopbackTheButtonsWaitForTheToken() throws Exception {
        app = new PackagedApp("console-browser-it");
        app.start(PackagedApp.tinyClassifier(dir.resolve("artifacts")), dir.resolve("data"), "guarded",
                List.of("-Dmicrokernel.api.trust-loopback=false", "-Dmicrokernel.api.token=" + TOKEN));
        browser = chromium();
        browser.get("http://127.0.0.1:" + app.port() + "/console/#rounds");
        WebElement start = await().atMost(PAGE).until(() -> browser.findElements(By.id("start-round")), l -> !l.isEmpty()).get(0);
        assertThat(start.isEnabled()).isFalse();
        assertThat(start.getAttribute("title")).contains("expected 'Authorization: Bearer <token>'");
        WebElement banner = browser.findElement(By.id("access-banner"));
        assertThat(banner.isDisplayed()).isTrue();
        assertThat(banner.getText()).contains("Enter the API token");
        screenshot("token-required");

        browser.findElement(By.id("token-input")).sendKeys("not-the-token");
        browser.findElement(By.id("token-save")).click();
        await().atMost(PAGE).until(() -> banner.getText().contains("found a different one"));
        assertThat(browser.findElement(By.id("start-round")).isEnabled()).isFalse();

        browser.findElement(By.id("token-input")).clear();
        browser.findElement(By.id("token-input")).sendKeys(TOKEN);
        browser.findElement(By.id("token-save")).click();
        await().atMost(PAGE).until(() -> browser.findElement(By.id("start-round")).isEnabled());
        assertThat(banner.isDisplayed()).isFalse();
        // The page sends the token: a round it starts is accepted (and refused for too few samples, not for access).
        browser.findElement(By.id("start-round")).click();
        await().atMost(PAGE).until(() -> browser.getCurrentUrl().matches(".*#rounds/\\d+")
                || !browser.findElement(By.id("round-start-status")).getText().isEmpty());
        if (!browser.getCurrentUrl().matches(".*#rounds/\\d+")) {
            assertThat(browser.findElement(By.id("round-start-status")).getText()).doesNotStartWith("401");
        }
    }

    /** Polls the live chart's point count while the round's badge says running. */
    private List<Integer> watchTheLiveLoss() {
        List<Integer> seen = new ArrayList<>();
        await().atMost(ROUND).pollInterval(Duration.ofMillis(100)).ignoreException(StaleElementReferenceException.class).until(() -> {
            String state = text(By.cssSelector("#round-state .badge"));
            List<WebElement> chart = browser.findElements(By.id("live-loss"));
            if (!chart.isEmpty() && state.equals("running")) {
                int points = Integer.parseInt(Optional.ofNullable(chart.get(0).getAttribute("data-points")).orElse("0"));
                if (points > 0 && (seen.isEmpty() || points > seen.get(seen.size() - 1))) {
                    seen.add(points);
                    if (seen.size() == 3) {
                        screenshot("round-running");
                    }
                }
            }
            return !List.of("queued", "running").contains(state);
        });
        return seen;
    }

    private void servingPageShowsTraffic() throws IOException {
        String zeros = String.join(",", java.util.Collections.nCopies(256, "0"));
        String request = "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,16,16],\"datatype\":\"FP32\",\"data\":[" + zeros + "]}]}";
        open("serving");
        await().atMost(PAGE).pollInterval(Duration.ofMillis(200)).until(() -> {
            given().port(app.port()).contentType("application/json").body(request).post("/v2/models/default/infer")
                    .then().statusCode(200);
            String rate = text(By.id("serving-rate")).replace(",", "");
            return !rate.equals("–") && Double.parseDouble(rate) > 0;
        });
        // A few scrapes more, so the charts have lines to draw.
        await().atMost(PAGE).pollInterval(Duration.ofMillis(200)).until(() -> {
            given().port(app.port()).contentType("application/json").body(request).post("/v2/models/default/infer")
                    .then().statusCode(200);
            return Integer.parseInt(browser.findElement(By.id("rate-chart")).getAttribute("data-points")) >= 4;
        });
        assertThat(browser.findElements(By.cssSelector("#latency-chart canvas"))).isNotEmpty();
        assertThat(text(By.cssSelector("#replicas td:nth-child(2)"))).isEqualTo("v1");
        screenshot("serving");
    }

    private void open(String page) {
        browser.findElement(By.cssSelector("nav a[data-page='" + page + "']")).click();
        await().atMost(PAGE).until(() -> page.equals(browser.findElement(By.id("page")).getAttribute("data-page")));
    }

    /** The element's text, waiting for the page to render it (live parts are redrawn: a stale element is looked up again). */
    private String text(By locator) {
        return await().atMost(PAGE).ignoreException(StaleElementReferenceException.class)
                .until(() -> browser.findElements(locator).stream().findFirst().map(WebElement::getText), Optional::isPresent)
                .get();
    }

    private int activeVersion() {
        return given().port(app.port()).get("/v1/models/default/versions").then().statusCode(200).extract().jsonPath().getInt("active");
    }

    private void screenshot(String name) {
        try {
            Path file = Files.createDirectories(SHOTS).resolve(name + ".png");
            Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), file,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private WebDriver chromium() throws IOException {
        return headlessChromium(dir.resolve("chromium"));
    }

    /** A headless Chromium with its profile in {@code userDataDir}; the caller quits it. */
    static WebDriver headlessChromium(Path userDataDir) throws IOException {
        // Both paths given, so Selenium Manager never looks for (or downloads) a browser or a driver.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1300", "--user-data-dir=" + Files.createDirectories(userDataDir));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort()
                .withLogFile(Files.createDirectories(Path.of("target", "console-browser-it")).resolve("chromedriver.log").toFile())
                .build();
        WebDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(PAGE);
        return driver;
    }
}

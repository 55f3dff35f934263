package io.microkernel.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.microkernel.config.MicrokernelConfig;
import io.smallrye.config.WithName;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The files under {@code deploy/} only name things the application has: probe paths it serves and
 * configuration keys it reads. Both lists are derived from the application (its configuration
 * mapping, its {@code application.properties}, its health extension and its JAX-RS resources), so
 * renaming a key or a path in the code without updating the manifests fails here.
 */
class DeployManifestsTest {

    private static final Path KUBERNETES = Path.of("deploy", "kubernetes");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static Properties applicationProperties;
    private static Map<String, Type> knownKeys;
    private static List<JsonNode> manifests;

    @BeforeAll
    static void load() throws IOException {
        applicationProperties = new Properties();
        try (InputStream in = DeployManifestsTest.class.getResourceAsStream("/application.properties")) {
            applicationProperties.load(in);
        }
        knownKeys = new LinkedHashMap<>();
        collectMappingKeys(MicrokernelConfig.class, "microkernel", knownKeys);
        for (String key : applicationProperties.stringPropertyNames()) {
            if (key.startsWith("quarkus.")) {
                knownKeys.put(key, String.class);
            }
        }
        manifests = new ArrayList<>();
        try (Stream<Path> files = Files.walk(KUBERNETES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                manifests.addAll(readAll(file));
            }
        }
    }

    @Test
    void derivedKeysIncludeNestedMappingKeys() {
        // Guards the derivation itself: if it found nothing, every later check would pass vacuously.
        assertThat(knownKeys).containsKeys("microkernel.data-dir", "microkernel.training.buffer.max-samples",
                "microkernel.api.token", "microkernel.serving.intra-op-threads", "quarkus.http.port");
        assertThat(envName("microkernel.training.gate.max-class-recall-drop"))
                .isEqualTo("MICROKERNEL_TRAINING_GATE_MAX_CLASS_RECALL_DROP");
    }

    @Test
    void kustomizationListsEveryManifestAndTheBaseHasTheExpectedKinds() throws IOException {
        JsonNode kustomization = YAML.readTree(KUBERNETES.resolve("kustomization.yaml").toFile());
        Set<String> listed = new LinkedHashSet<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        Set<String> present = new LinkedHashSet<>();
        try (Stream<Path> files = Files.list(KUBERNETES)) {
            files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .forEach(present::add);
        }
        assertThat(listed).containsExactlyInAnyOrderElementsOf(present);
        assertThat(manifests).extracting(m -> m.path("kind").asText())
                .contains("Deployment", "Service", "ConfigMap", "PersistentVolumeClaim");
    }

    @Test
    void everyProbePathIsServedByTheApplication() {
        Set<String> served = servedGetPaths();
        JsonNode container = mainContainer();
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            JsonNode get = container.path(probe).path("httpGet");
            assertThat(get.isMissingNode()).as(probe + " is an HTTP probe").isFalse();
            assertThat(served).as(probe + " path").contains(get.path("path").asText());
            assertThat(containerPort(container, get.path("port")))
                    .as(probe + " port is the application's HTTP port")
                    .isEqualTo(Integer.parseInt(applicationProperties.getProperty("quarkus.http.port", "8080")));
        }
        // A liveness probe on the readiness path would restart pods while their model loads.
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asText())
                .isEqualTo(healthPath("liveness-path", "live"));
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asText())
                .isEqualTo(healthPath("readiness-path", "ready"));
        assertThat(container.path("startupProbe").path("httpGet").path("path").asText())
                .isEqualTo(healthPath("startup-path", "started"));
    }

    @Test
    void everyConfigurationKeyTheManifestsSetExistsWithAValidValue() {
        Map<String, String> settings = new LinkedHashMap<>();
        for (JsonNode manifest : manifests) {
            if (manifest.path("kind").asText().equals("ConfigMap")) {
                manifest.path("data").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
            }
            for (JsonNode container : containers(manifest)) {
                for (JsonNode env : container.path("env")) {
                    settings.put(env.path("name").asText(), env.has("value") ? env.path("value").asText() : null);
                }
                for (JsonNode from : container.path("envFrom")) {
                    String name = from.path("configMapRef").path("name").asText();
                    assertThat(manifests).as("ConfigMap " + name + " is defined")
                            .anyMatch(m -> m.path("kind").asText().equals("ConfigMap")
                                    && m.path("metadata").path("name").asText().equals(name));
                }
            }
        }
        assertThat(settings).containsKeys("MICROKERNEL_DATA_DIR", "MICROKERNEL_API_TOKEN", "MICROKERNEL_DEVICE");
        settings.forEach(DeployManifestsTest::assertKnownSetting);
    }

    @Test
    void theContainerImagesSetOnlyKnownKeysAndKeepTheirWritablePathsOnVolumes() throws IOException {
        for (String dockerfile : List.of("Dockerfile", "Dockerfile.cuda")) {
            String text = Files.readString(Path.of("deploy", dockerfile)).replace("\\\n", " ");
            Map<String, String> env = new LinkedHashMap<>();
            Matcher statement = Pattern.compile("(?m)^ENV\\s+(.*)$").matcher(text);
            while (statement.find()) {
                Matcher pair = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S+)").matcher(statement.group(1));
                while (pair.find()) {
                    env.put(pair.group(1), pair.group(2).replace("\"", ""));
                }
            }
            assertThat(env).as(dockerfile).containsKeys("MICROKERNEL_DATA_DIR", "MICROKERNEL_DEVICE");
            env.entrySet().stream()
                    .filter(e -> e.getKey().startsWith("MICROKERNEL_") || e.getKey().startsWith("QUARKUS_"))
                    .forEach(e -> assertKnownSetting(e.getKey(), e.getValue()));
            Matcher volume = Pattern.compile("(?m)^VOLUME\\s+(.*)$").matcher(text);
            assertThat(volume.find()).as(dockerfile + " declares volumes").isTrue();
            assertThat(volume.group(1)).as(dockerfile + " volumes")
                    .contains("\"" + env.get("MICROKERNEL_DATA_DIR") + "\"", "\"/tmp\"");
            assertThat(env.get("JAVA_TOOL_OPTIONS")).contains("-Djava.io.tmpdir=/tmp");
            assertThat(text).as(dockerfile + " drops root").containsPattern("(?m)^USER\\s+\\S+");
        }
    }

    @Test
    void thePodRunsNonRootOnAReadOnlyRootWithItsWritablePathsMounted() {
        JsonNode deployment = deployment();
        JsonNode pod = deployment.path("spec").path("template").path("spec");
        JsonNode container = mainContainer();
        assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
        Set<String> mounts = new LinkedHashSet<>();
        container.path("volumeMounts").forEach(m -> mounts.add(m.path("mountPath").asText()));
        String dataDir = null;
        for (JsonNode env : container.path("env")) {
            if (env.path("name").asText().equals("MICROKERNEL_DATA_DIR")) {
                dataDir = env.path("value").asText();
            }
            if (env.path("name").asText().equals("MICROKERNEL_API_TOKEN")) {
                assertThat(env.has("value")).as("the token never appears in a manifest").isFalse();
                assertThat(env.path("valueFrom").path("secretKeyRef").path("key").asText()).isNotEmpty();
            }
        }
        assertThat(mounts).contains(dataDir, "/tmp");
        JsonNode resources = container.path("resources");
        assertThat(resources.path("requests").path("cpu").isMissingNode()).isFalse();
        assertThat(resources.path("limits").path("memory").isMissingNode()).isFalse();
        assertThat(container.path("lifecycle").path("preStop").isMissingNode()).isFalse();
        assertThat(deployment.path("spec").path("strategy").path("type").asText())
                .as("one process per data dir: a rollout never runs two pods on the ReadWriteOnce volume")
                .isEqualTo("Recreate");
    }

    /** kustomize refuses an overlay inside its base ("cycle detected"); the CUDA overlay sits beside it. */
    @Test
    void theCudaOverlaySitsBesideItsBaseAndRenders() throws Exception {
        Path overlay = Path.of("deploy", "kubernetes-cuda");
        JsonNode kustomization = YAML.readTree(overlay.resolve("kustomization.yaml").toFile());
        List<Path> bases = new ArrayList<>();
        kustomization.path("resources").forEach(r -> bases.add(overlay.resolve(r.asText()).normalize()));
        assertThat(bases).containsExactly(KUBERNETES);
        assertThat(overlay.toAbsolutePath().normalize().startsWith(KUBERNETES.toAbsolutePath().normalize()))
                .as("the overlay is not inside its base").isFalse();
        Optional<Path> kubectl = Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .map(d -> Path.of(d, "kubectl")).filter(Files::isExecutable).findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not on PATH: render not checked");
        Process render = new ProcessBuilder(kubectl.get().toString(), "kustomize", overlay.toString())
                .redirectErrorStream(true).start();
        String output = new String(render.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(render.waitFor()).as(output).isZero();
        assertThat(output).contains("nvidia.com/gpu").contains("kind: Deployment");
    }

    // ---- fleet mode (deploy/kubernetes-fleet) and the edge leaf node (deploy/edge-leaf) ----------

    private static final Path FLEET = Path.of("deploy", "kubernetes-fleet");

    private static List<JsonNode> fleetManifests() throws IOException {
        List<JsonNode> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(FLEET)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                found.addAll(readAll(file));
            }
        }
        return found;
    }

    private static JsonNode fleetKind(List<JsonNode> all, String kind, String name) {
        return all.stream().filter(m -> m.path("kind").asText().equals(kind)
                && m.path("metadata").path("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in " + FLEET));
    }

    @Test
    void theFleetRunsJetStreamNatsOnThreeStatefulPodsAndServiceReplicasWithoutASharedVolume() throws IOException {
        JsonNode kustomization = YAML.readTree(FLEET.resolve("kustomization.yaml").toFile());
        Set<String> listed = new LinkedHashSet<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        try (Stream<Path> files = Files.list(FLEET)) {
            assertThat(listed).containsExactlyInAnyOrderElementsOf(files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).toList());
        }
        List<JsonNode> all = fleetManifests();
        JsonNode nats = fleetKind(all, "StatefulSet", "nats");
        assertThat(nats.path("spec").path("replicas").asInt()).isEqualTo(3);
        assertThat(nats.path("spec").path("template").path("spec").path("containers").path(0).path("image").asText())
                .startsWith("nats:");
        assertThat(nats.path("spec").path("volumeClaimTemplates").path(0).path("metadata").path("name").asText())
                .isEqualTo("jetstream");
        String conf = fleetKind(all, "ConfigMap", "nats-config").path("data").path("nats.conf").asText();
        assertThat(conf).contains("jetstream {").contains("store_dir: /data/jetstream").contains("routes:");
        for (int pod = 0; pod < 3; pod++) {
            assertThat(conf).contains("nats://nats-" + pod + ".nats-cluster:6222");
        }
        JsonNode service = fleetKind(all, "Deployment", "onnx-microkernel");
        assertThat(service.path("spec").path("replicas").asInt()).as("several replicas").isGreaterThan(1);
        assertThat(service.path("spec").path("strategy").path("type").asText()).isEqualTo("RollingUpdate");
        assertThat(all).as("no shared volume").noneMatch(m -> m.path("kind").asText().equals("PersistentVolumeClaim"));
        service.path("spec").path("template").path("spec").path("volumes")
                .forEach(v -> assertThat(v.has("persistentVolumeClaim")).as(v.toString()).isFalse());
    }

    @Test
    void theFleetReplicasSetKnownKeysAndReachTheNatsService() throws IOException {
        List<JsonNode> all = fleetManifests();
        JsonNode container = fleetKind(all, "Deployment", "onnx-microkernel").path("spec").path("template")
                .path("spec").path("containers").path(0);
        String configMap = container.path("envFrom").path(0).path("configMapRef").path("name").asText();
        Map<String, String> settings = new LinkedHashMap<>();
        fleetKind(all, "ConfigMap", configMap).path("data").fields()
                .forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
        container.path("env").forEach(e -> settings.put(e.path("name").asText(), e.has("value") ? e.path("value").asText() : null));
        settings.forEach(DeployManifestsTest::assertKnownSetting);
        assertThat(settings.get("MICROKERNEL_FLEET_ROLE")).isIn("trainer-eligible", "serve-only");
        java.net.URI url = java.net.URI.create(settings.get("MICROKERNEL_FLEET_NATS_URL"));
        JsonNode natsService = fleetKind(all, "Service", url.getHost());
        List<Integer> ports = new ArrayList<>();
        natsService.path("spec").path("ports").forEach(p -> ports.add(p.path("port").asInt()));
        assertThat(ports).contains(url.getPort());
        Set<String> served = servedGetPaths();
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertThat(served).as(probe).contains(container.path(probe).path("httpGet").path("path").asText());
        }
    }

    @Test
    void theEdgeBoxJoinsTheHubAsALeafNodeAndNamesTheHubsJetStreamDomain() throws IOException {
        Path edge = Path.of("deploy", "edge-leaf");
        String leaf = Files.readString(edge.resolve("leaf.conf"));
        String hub = fleetKind(fleetManifests(), "ConfigMap", "nats-config").path("data").path("nats.conf").asText();
        Matcher remote = Pattern.compile("url:\\s*\"nats-leaf://[^:\"]+:(\\d+)\"").matcher(leaf);
        assertThat(remote.find()).as("leaf.conf names a nats-leaf:// remote").isTrue();
        assertThat(hub).contains("leafnodes {").contains("port: " + remote.group(1));
        Properties env = new Properties();
        try (InputStream in = Files.newInputStream(edge.resolve("microkernel.env"))) {
            env.load(in);
        }
        env.stringPropertyNames().forEach(name -> assertKnownSetting(name, env.getProperty(name)));
        Matcher domain = Pattern.compile("domain:\\s*(\\S+)").matcher(hub);
        assertThat(domain.find()).as("the hub names its JetStream domain").isTrue();
        assertThat(env.getProperty("MICROKERNEL_FLEET_JS_DOMAIN")).isEqualTo(domain.group(1));
        assertThat(env.getProperty("MICROKERNEL_FLEET_NATS_URL")).startsWith("nats://127.0.0.1:");
    }

    // ---- what the application has --------------------------------------------------------------

    /** Every template-free GET path: the health extension's endpoints and the application's own resources. */
    private static Set<String> servedGetPaths() {
        Set<String> paths = new LinkedHashSet<>();
        Map<String, String> handlers = Map.of(
                "SmallRyeLivenessHandler", healthPath("liveness-path", "live"),
                "SmallRyeReadinessHandler", healthPath("readiness-path", "ready"),
                "SmallRyeStartupHandler", healthPath("startup-path", "started"),
                "SmallRyeHealthHandler", healthRoot());
        handlers.forEach((handler, path) -> {
            if (classExists("io.quarkus.smallrye.health.runtime." + handler)) {
                paths.add(path);
            }
        });
        paths.addAll(resourceGetPaths());
        return paths;
    }

    /** The health extension's root, resolved against the non-application root as Quarkus does. */
    private static String healthRoot() {
        String nonApplication = trimSlashes(applicationProperties.getProperty("quarkus.http.non-application-root-path", "q"));
        String root = applicationProperties.getProperty("quarkus.smallrye-health.root-path", "health");
        return root.startsWith("/") ? root : "/" + nonApplication + "/" + trimSlashes(root);
    }

    private static String healthPath(String key, String quarkusDefault) {
        String path = applicationProperties.getProperty("quarkus.smallrye-health." + key, quarkusDefault);
        return path.startsWith("/") ? path : healthRoot() + "/" + trimSlashes(path);
    }

    /** GET paths of the application's JAX-RS resources, found by scanning its compiled classes. */
    private static Set<String> resourceGetPaths() {
        Set<String> paths = new LinkedHashSet<>();
        Path classes;
        try {
            classes = Path.of(MicrokernelConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> type;
                try {
                    type = Class.forName(name, false, DeployManifestsTest.class.getClassLoader());
                } catch (ClassNotFoundException | LinkageError e) {
                    continue;
                }
                jakarta.ws.rs.Path classPath = type.getAnnotation(jakarta.ws.rs.Path.class);
                if (classPath == null) {
                    continue;
                }
                for (Method method : type.getMethods()) {
                    if (!method.isAnnotationPresent(jakarta.ws.rs.GET.class)) {
                        continue;
                    }
                    jakarta.ws.rs.Path methodPath = method.getAnnotation(jakarta.ws.rs.Path.class);
                    String path = "/" + trimSlashes(classPath.value())
                            + (methodPath == null ? "" : "/" + trimSlashes(methodPath.value()));
                    if (!path.contains("{")) {
                        paths.add(path.replaceAll("/+$", "").isEmpty() ? "/" : path.replaceAll("/+$", ""));
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return paths;
    }

    /** Walks a {@code @ConfigMapping} interface the way SmallRye Config names its keys. */
    private static void collectMappingKeys(Class<?> mapping, String prefix, Map<String, Type> keys) {
        for (Method method : mapping.getMethods()) {
            if (method.isDefault() || Modifier.isStatic(method.getModifiers()) || method.getParameterCount() > 0) {
                continue;
            }
            WithName rename = method.getAnnotation(WithName.class);
            String key = prefix + "." + (rename != null ? rename.value() : kebab(method.getName()));
            Class<?> type = method.getReturnType();
            if (type.isInterface() && type.getName().startsWith(MicrokernelConfig.class.getName())) {
                collectMappingKeys(type, key, keys);
            } else {
                keys.put(key, method.getGenericReturnType());
            }
        }
    }

    // ---- checks and helpers --------------------------------------------------------------------

    private static void assertKnownSetting(String envName, String value) {
        assertThat(envName).as("environment variable " + envName + " is a configuration key")
                .matches("(MICROKERNEL|QUARKUS)_[A-Z0-9_]+");
        Optional<Map.Entry<String, Type>> key = knownKeys.entrySet().stream()
                .filter(e -> envName(e.getKey()).equals(envName)).findFirst();
        assertThat(key).as(envName + " maps to a key of MicrokernelConfig or application.properties").isPresent();
        if (value != null) {
            assertParses(key.get().getKey(), key.get().getValue(), value);
        }
    }

    private static void assertParses(String key, Type type, String value) {
        Type target = type;
        if (type instanceof ParameterizedType parameterized && parameterized.getRawType() == Optional.class) {
            target = parameterized.getActualTypeArguments()[0];
        }
        String described = key + "=" + value;
        if (target == int.class || target == Integer.class || target == OptionalInt.class
                || target == long.class || target == OptionalLong.class) {
            assertThat(value).as(described + " is an integer").matches("-?\\d+");
        } else if (target == double.class || target == Double.class || target == OptionalDouble.class) {
            assertThat(value).as(described + " is a number").matches("-?\\d+(\\.\\d+)?([eE]-?\\d+)?");
        } else if (target == boolean.class || target == Boolean.class) {
            assertThat(value).as(described + " is a boolean").isIn("true", "false");
        }
    }

    /** SmallRye Config's environment variable name for a key. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    private static String trimSlashes(String path) {
        return path.replaceAll("^/+|/+$", "");
    }

    private static boolean classExists(String name) {
        try {
            Class.forName(name, false, DeployManifestsTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static JsonNode deployment() {
        return manifests.stream()
                .filter(m -> m.path("kind").asText().equals("Deployment") && m.path("spec").has("selector"))
                .findFirst().orElseThrow(() -> new AssertionError("no complete Deployment in " + KUBERNETES));
    }

    @Test
    void theGrpcPortIsTheConfiguredOneInThePodTheServiceAndTheImages() throws Exception {
        int grpcPort = Integer.parseInt(MicrokernelConfig.Grpc.class.getMethod("port")
                .getAnnotation(io.smallrye.config.WithDefault.class).value());
        assertThat(applicationProperties.getProperty("quarkus.grpc.server.port"))
                .isEqualTo("${microkernel.grpc.port:" + grpcPort + "}");
        assertThat(applicationProperties.getProperty("quarkus.grpc.server.use-separate-server")).isEqualTo("true");
        assertThat(containerPort(mainContainer(), YAML.getNodeFactory().textNode("grpc"))).isEqualTo(grpcPort);
        JsonNode service = manifests.stream().filter(m -> m.path("kind").asText().equals("Service")).findFirst().orElseThrow();
        List<String> serviceTargets = new ArrayList<>();
        service.path("spec").path("ports").forEach(p -> serviceTargets.add(p.path("targetPort").asText()));
        assertThat(serviceTargets).contains("grpc");
        for (String dockerfile : List.of("Dockerfile", "Dockerfile.cuda")) {
            assertThat(Files.readAllLines(Path.of("deploy", dockerfile)))
                    .as(dockerfile + " exposes the gRPC port")
                    .anyMatch(line -> line.startsWith("EXPOSE ") && List.of(line.substring(7).trim().split("\\s+"))
                            .contains(Integer.toString(grpcPort)));
        }
    }

    private static JsonNode mainContainer() {
        return deployment().path("spec").path("template").path("spec").path("containers").path(0);
    }

    private static List<JsonNode> containers(JsonNode manifest) {
        List<JsonNode> found = new ArrayList<>();
        manifest.path("spec").path("template").path("spec").path("containers").forEach(found::add);
        return found;
    }

    private static int containerPort(JsonNode container, JsonNode port) {
        if (port.isInt()) {
            return port.asInt();
        }
        for (JsonNode declared : container.path("ports")) {
            if (declared.path("name").asText().equals(port.asText())) {
                return declared.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port named " + port.asText());
    }

    private static List<JsonNode> readAll(Path file) throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (YAMLParser parser = ((YAMLFactory) YAML.getFactory()).createParser(file.toFile())) {
            for (JsonNode node : YAML.readValues(parser, JsonNode.class).readAll()) {
                if (node instanceof ObjectNode) {
                    documents.add(node);
                }
            }
        }
        assertThat(documents).as(file + " holds at least one document").isNotEmpty();
        return documents;
    }
}

package io.microkernel.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.javaparser.ParserConfiguration;
import com.github.javaparser.StaticJavaParser;
import com.github.javaparser.ast.CompilationUnit;
import com.github.javaparser.ast.body.CallableDeclaration;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.microkernel.runtime.OrtRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The house rules a newcomer relies on, checked on every build: the dependency direction of the
 * packages (DESIGN.md's "Dependencies point down"), and short methods.
 */
class ArchitectureTest {

    /** The packages that make up the running server; the tools beside it are {@code compiler}, {@code demo}, {@code cli}. */
    private static final String[] SERVER = {"io.microkernel.api..", "io.microkernel.serving..",
        "io.microkernel.training..", "io.microkernel.fleet..", "io.microkernel.store..", "io.microkernel.artifacts..",
        "io.microkernel.tensor..", "io.microkernel.runtime..", "io.microkernel.config..", "io.microkernel.feedback..",
        "io.microkernel.drift.."};

    private static final int MAX_METHOD_LINES = 60;

    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.microkernel");
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("io.microkernel.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void serverNeverImportsTheTools() {
        noClasses().that().resideInAnyPackage(SERVER)
                .should().dependOnClassesThat().resideInAnyPackage("io.microkernel.demo..", "io.microkernel.compiler..",
                        "io.microkernel.cli..")
                .check(classes);
    }

    @Test
    void demoStandsBesideTheCommandLine() {
        noClasses().that().resideInAnyPackage("io.microkernel.demo..", "io.microkernel.compiler..")
                .should().dependOnClassesThat().resideInAPackage("io.microkernel.cli..")
                .check(classes);
    }

    @Test
    void apiHoldsNoOnnxRuntimeTypes() {
        noClasses().that().resideInAPackage("io.microkernel.api..")
                .should().dependOnClassesThat().resideInAPackage("ai.onnxruntime..")
                .check(classes);
    }

    @Test
    void nothingBelowApiKnowsHttp() {
        noClasses().that().resideInAnyPackage("io.microkernel.serving..", "io.microkernel.training..",
                        "io.microkernel.fleet..", "io.microkernel.store..", "io.microkernel.artifacts..",
                        "io.microkernel.tensor..", "io.microkernel.feedback..", "io.microkernel.drift..")
                .should().dependOnClassesThat().resideInAnyPackage("jakarta.ws.rs..", "io.vertx..",
                        "org.jboss.resteasy..", "io.grpc..")
                .check(classes);
    }

    /** DESIGN.md: serving and training sit above fleet; fleet speaks NATS and files, never of the served model or rounds. */
    @Test
    void fleetSitsBelowServingAndTraining() {
        noClasses().that().resideInAPackage("io.microkernel.fleet..")
                .should().dependOnClassesThat().resideInAnyPackage("io.microkernel.serving..", "io.microkernel.training..",
                        "io.microkernel.api..")
                .check(classes);
        noClasses().that().resideInAnyPackage("io.microkernel.store..", "io.microkernel.artifacts..",
                        "io.microkernel.tensor..")
                .should().dependOnClassesThat().resideInAPackage("io.microkernel.fleet..")
                .check(classes);
    }

    /** Session options (explicit thread counts, closed by the caller) are made in one place: {@code runtime.OrtSessions}. */
    @Test
    void theServerTakesOnnxRuntimeFromCdi() {
        noClasses().that().resideInAnyPackage("io.microkernel.api..", "io.microkernel.serving..",
                        "io.microkernel.training..", "io.microkernel.store..", "io.microkernel.fleet..",
                        "io.microkernel.feedback..", "io.microkernel.drift..")
                .and().doNotHaveFullyQualifiedName("io.microkernel.serving.ServingBeans")
                .should().callMethod(OrtRuntime.class, "start", java.util.Optional.class)
                .orShould().callMethod(OrtRuntime.class, "bundled")
                .because("the server's one ONNX Runtime comes from the CDI producer ServingBeans.ortRuntime")
                .check(classes);
    }

    @Test
    void onlyOrtSessionsMakesSessionOptions() {
        noClasses().that().doNotHaveFullyQualifiedName("io.microkernel.runtime.OrtSessions")
                .should().callConstructor(ai.onnxruntime.OrtSession.SessionOptions.class)
                .check(classes);
    }

    @Test
    void noMainMethodIsLongerThanSixtyLines() throws IOException {
        StaticJavaParser.getParserConfiguration().setLanguageLevel(ParserConfiguration.LanguageLevel.JAVA_17);
        List<String> tooLong = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                CompilationUnit unit = StaticJavaParser.parse(file);
                for (CallableDeclaration<?> method : unit.findAll(CallableDeclaration.class)) {
                    int lines = method.getEnd().get().line - method.getBegin().get().line + 1;
                    if (lines > MAX_METHOD_LINES) {
                        tooLong.add(file.getFileName() + ":" + method.getBegin().get().line + " "
                                + method.getNameAsString() + " " + lines + " lines");
                    }
                }
            }
        }
        assertThat(tooLong).as("methods over %d lines", MAX_METHOD_LINES).isEmpty();
    }
}

package io.microkernel.cli;

import ai.onnxruntime.OrtEnvironment;
import io.microkernel.runtime.OrtRuntime;
import io.microkernel.runtime.StartupTimeline;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The command line of the application: with no arguments, or with {@code serve}, it starts the server;
 * {@code artifacts ...} runs the artifact tools and {@code selfcheck} checks the platform, without it. Parsing happens before Quarkus starts, so
 * {@code --help}, {@code --version} and a wrong command line never open a port.
 *
 * <p>Exit codes: 0 done, 1 the work failed (one line on {@code err}), 2 the command line is wrong
 * (the message and the usage on {@code err}).
 *
 * <p>The one {@link OrtEnvironment} of a command comes from {@link OrtRuntime#start}, asked for only by
 * the commands that need it and handed to the compiler and demo code as an argument.
 */
@Command(name = Cli.NAME, mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = "Serves an ONNX model that learns from labelled samples; with no command, serves.",
        footer = {"", "Exit codes: 0 done, 1 the work failed, 2 wrong command line."})
public final class Cli implements Callable<Integer> {

    static final String NAME = "onnx-microkernel";

    /** Where a command writes; progress and errors go to {@code err}, results to {@code out}. */
    record Streams(PrintStream out, PrintStream err) {
    }

    private final Consumer<String[]> server;
    private boolean served;

    @Spec
    CommandSpec spec;

    private Cli(Consumer<String[]> server) {
        this.server = server;
    }

    /**
     * Runs one command line and returns its exit code.
     *
     * @param server starts the server with the given arguments ({@code Quarkus::run} in the application);
     *               it is called for no arguments and for {@code serve}
     */
    public static Result execute(String[] args, PrintStream out, PrintStream err, Consumer<String[]> server) {
        Cli root = new Cli(server);
        if (args.length == 0) {
            // What the command tree would do for no arguments, without building it: a server's start
            // does not pay for the tools' command models.
            root.call();
            return new Result(0, true);
        }
        Streams streams = new Streams(out, err);
        Supplier<OrtEnvironment> environment = () -> OrtRuntime.start(Optional.empty()).environment();
        CommandLine artifacts = new CommandLine(new ArtifactsCommand())
                .addSubcommand(new CommandLine.HelpCommand())
                .addSubcommand(new InspectCommand(streams))
                .addSubcommand(new BuildCommand(streams, environment))
                .addSubcommand(new MakeDefaultCommand(streams, environment))
                .addSubcommand(new SamplesCommand(streams));
        CommandLine cli = new CommandLine(root)
                .addSubcommand(new CommandLine.HelpCommand())
                .addSubcommand(new ServeCommand(root::serve))
                .addSubcommand(artifacts)
                .addSubcommand(new SelfCheckCommand(streams));
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cli.setParameterExceptionHandler(Cli::usageError);
        cli.setExecutionExceptionHandler((e, command, parsed) -> failed(e, err));
        int code = cli.execute(args);
        return new Result(code, root.served);
    }

    /** The exit code, and whether the server ran (then the server owns the process exit). */
    public record Result(int exitCode, boolean served) {
    }

    @Override
    public Integer call() {
        serve(new String[0]);
        return 0;
    }

    private void serve(String[] args) {
        StartupTimeline.sinceMark("command line");
        served = true;
        server.accept(args);
    }

    /** A wrong command line: the command, what is wrong, then its usage; exit code 2. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        err.println(command.getCommandSpec().qualifiedName() + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        command.usage(err);
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** Failed work: one line on {@code err}; exit code 1. */
    private static int failed(Exception e, PrintStream err) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName()
                : e.getMessage().lines().findFirst().orElse("");
        err.println("error: " + message);
        return 1;
    }
}

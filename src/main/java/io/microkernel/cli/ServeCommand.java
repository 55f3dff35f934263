package io.microkernel.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code serve [-Dkey=value ...] [ARGS ...]}: starts the server, as running the application with no
 * arguments does. {@code -Dkey=value} arguments become system properties before Quarkus starts, so they
 * set configuration as they would before {@code -jar}; every argument is passed on to Quarkus.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = {"Starts the server (the default when no command is given).",
                "-Dkey=value arguments set configuration, e.g. -Dquarkus.http.port=8085."})
final class ServeCommand implements Callable<Integer> {

    private final Consumer<String[]> server;

    @Unmatched
    List<String> arguments = new ArrayList<>();

    ServeCommand(Consumer<String[]> server) {
        this.server = server;
    }

    @Override
    public Integer call() {
        for (String argument : arguments) {
            int eq = argument.indexOf('=');
            if (argument.startsWith("-D") && eq > 2) {
                System.setProperty(argument.substring(2, eq), argument.substring(eq + 1));
            }
        }
        server.accept(arguments.toArray(String[]::new));
        return 0;
    }
}

/**
 * What can go wrong, as values: {@link io.microkernel.problem.ProblemType} names every kind of
 * failure the service reports (a stable slug, a title and the HTTP status it answers with) and
 * {@link io.microkernel.problem.ProblemException} is the one exception that carries one, with its
 * detail ("expected X, found Y"), its cause and any response headers it needs.
 *
 * <p>This package sits at the bottom of the dependency graph: every other package may throw these,
 * and this one imports nothing of the project. It holds only the vocabulary of failures; turning a
 * {@code ProblemException} into an HTTP answer is the {@code api} package's job (one mapper), and
 * a failure that code must catch by kind is a thin subclass in the package that throws it. The one
 * subclass here, {@link io.microkernel.problem.ConfigurationException}, is thrown by every layer
 * that reads a setting and is reported at start-up rather than to a client.
 */
package io.microkernel.problem;

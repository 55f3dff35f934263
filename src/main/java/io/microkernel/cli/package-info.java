/**
 * The command line: {@code serve} (the default) and the {@code artifacts} tools, on picocli.
 *
 * <p>Depends on everything it launches; nothing depends on it.
 */
package io.microkernel.cli;

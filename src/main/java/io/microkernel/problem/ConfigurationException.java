package io.microkernel.problem;

/**
 * A {@code microkernel.*} setting holds a value the service cannot run with. It is found at
 * start-up, reported as one line naming the property, what was expected and what was found, and
 * stops the process; it is never a client's fault, so it is no 4xx.
 */
public class ConfigurationException extends ProblemException {

    private final String property;

    /**
     * @param property the full property name ({@code microkernel.serving.max-batch})
     * @param expected what a valid value looks like ({@code at least 1})
     * @param found    the value configured
     */
    public ConfigurationException(String property, String expected, Object found) {
        super(ProblemType.CONFIGURATION, property + ": expected " + expected + ", found " + found);
        this.property = property;
    }

    /** The property that holds the bad value. */
    public String property() {
        return property;
    }
}

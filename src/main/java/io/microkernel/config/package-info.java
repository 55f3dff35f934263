/**
 * The service's configuration as {@code @ConfigMapping} interfaces ({@code microkernel.*}), with
 * defaults and documentation in one place.
 */
package io.microkernel.config;

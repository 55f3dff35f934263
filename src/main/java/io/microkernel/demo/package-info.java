/**
 * The shape-drawing task and the maker of {@code models/default}: seeded shape images in two styles,
 * backbone pretraining and head fitting, and a printer of sample requests.
 *
 * <p>A tool beside the server; the server never imports it.
 */
package io.microkernel.demo;

/**
 * The smoke tests' first application.
 */
@NullMarked
package io.github.reliablekafka.smoke;

import org.jspecify.annotations.NullMarked;

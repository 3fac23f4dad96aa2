/**
 * Pieces every capability shares: the header names the library owns, message ids and the payload codec.
 */
@NullMarked
package io.github.reliablekafka.support;

import org.jspecify.annotations.NullMarked;

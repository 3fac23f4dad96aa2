/**
 * What every capability shares and users touch: the header names the library owns ({@link RkHeaders}), the payload
 * codec, schema initialization and the library's configuration error.
 */
@NullMarked
package io.github.reliablekafka.support;

import org.jspecify.annotations.NullMarked;

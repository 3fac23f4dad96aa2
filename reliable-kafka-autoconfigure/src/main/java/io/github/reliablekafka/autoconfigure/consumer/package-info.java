/**
 * Auto-configuration of reliable listeners.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure.consumer;

import org.jspecify.annotations.NullMarked;

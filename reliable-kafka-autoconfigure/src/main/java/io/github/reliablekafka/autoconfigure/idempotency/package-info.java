/**
 * Auto-configuration of the idempotency guards of reliable listeners.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure.idempotency;

import org.jspecify.annotations.NullMarked;

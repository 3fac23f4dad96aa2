/**
 * Auto-configuration of lag, health, the {@code reliablekafka} endpoint and replay.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure.observe;

import org.jspecify.annotations.NullMarked;

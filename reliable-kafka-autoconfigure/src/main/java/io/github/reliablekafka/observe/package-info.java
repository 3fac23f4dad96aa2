/**
 * Observability and operations: consumer lag and the retention warnings built on it, the health indicator, the
 * {@code reliablekafka} actuator endpoint, and replay of a listener's group from the beginning, an offset or a
 * timestamp.
 */
@NullMarked
package io.github.reliablekafka.observe;

import org.jspecify.annotations.NullMarked;

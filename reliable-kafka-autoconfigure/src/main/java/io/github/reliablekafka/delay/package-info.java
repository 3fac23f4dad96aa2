/**
 * Delayed delivery without a database: tier topics ({@code rk-delay-1s}, {@code rk-delay-5s}, ...) whose forwarder
 * holds each record until it is due, and {@link io.github.reliablekafka.delay.RetryLaterException}, which sends a
 * record through the tiers back to its own topic.
 */
@NullMarked
package io.github.reliablekafka.delay;

import org.jspecify.annotations.NullMarked;

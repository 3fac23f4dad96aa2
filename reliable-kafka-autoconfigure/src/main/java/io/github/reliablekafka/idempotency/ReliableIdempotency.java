package io.github.reliablekafka.idempotency;

import org.jspecify.annotations.Nullable;

/**
 * The idempotency set-up reliable listeners use: the guard (none when {@code store=none}) and the default key
 * strategy.
 *
 * @param guard the guard, {@code null} for none
 * @param keyStrategy where keys come from when a listener names no expression
 */
public record ReliableIdempotency(@Nullable IdempotencyGuard guard, IdempotencyKeyStrategy keyStrategy) {
}

package io.github.reliablekafka.idempotency;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;

/**
 * The idempotency set-up reliable listeners use: the guard (none when {@code store=none}) and the default key
 * strategy. Its guard's background work stops with the context ({@link #close()}), in the stop phase, before the
 * Redis connection factory closes, and again (a no-op then) when the bean is destroyed.
 *
 * @param guard the guard, {@code null} for none
 * @param keyStrategy where keys come from when a listener names no expression
 */
public record ReliableIdempotency(@Nullable IdempotencyGuard guard, IdempotencyKeyStrategy keyStrategy) {

	/**
	 * Stop the guard's background work, if it has any (the two-tier guard's {@code DONE} writes to Redis get a few
	 * seconds to finish). The auto-configuration calls it when the context stops, after the listener containers and
	 * before the Redis connection factory ({@link IdempotencyGuards#stopWithTheContext}); calling it again does
	 * nothing more.
	 * @throws Exception when the guard could not stop
	 */
	public void close() throws Exception {
		if (this.guard instanceof DisposableBean disposable) {
			disposable.destroy();
		}
	}

}

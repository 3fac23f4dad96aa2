package io.github.reliablekafka.idempotency;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;

/**
 * The idempotency set-up reliable listeners use: the guard (none when {@code store=none}) and the default key
 * strategy. As a bean, it stops the guard's background work when the context closes ({@link #close()}).
 *
 * @param guard the guard, {@code null} for none
 * @param keyStrategy where keys come from when a listener names no expression
 */
public record ReliableIdempotency(@Nullable IdempotencyGuard guard, IdempotencyKeyStrategy keyStrategy) {

	/**
	 * Stop the guard's background work, if it has any (the two-tier guard's {@code DONE} writes to Redis get a few
	 * seconds to finish). Spring calls it when the context closes, after the listener containers stopped.
	 * @throws Exception when the guard could not stop
	 */
	public void close() throws Exception {
		if (this.guard instanceof DisposableBean disposable) {
			disposable.destroy();
		}
	}

}

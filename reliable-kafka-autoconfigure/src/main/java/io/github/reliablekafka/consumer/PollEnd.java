package io.github.reliablekafka.consumer;

import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.internal.PollEndInterceptor;
import org.apache.kafka.clients.consumer.Consumer;

/**
 * Lets the idempotency guard leave a record's last write for the consumer thread's next call (see
 * {@link IdempotencyGuard#executeDeferring}), and writes what is left when the container's loop ends: the container
 * calls {@link #clearThreadState} after the listener ran the poll's records and before it commits their offsets, at
 * the start of its next loop. A thread may defer only once the container called {@link #setupThreadState} on it,
 * before its first poll: should the container's record interceptor be replaced (by a container customizer), nothing
 * is deferred, as nothing would be written at the poll's end.
 */
final class PollEnd extends PollEndInterceptor {

	private final IdempotencyGuard guard;

	private final ThreadLocal<Boolean> armed = ThreadLocal.withInitial(() -> false);

	PollEnd(IdempotencyGuard guard) {
		this.guard = guard;
	}

	/**
	 * Whether the guard may leave a record's last write for later on this thread.
	 * @return {@code true} on a consumer thread whose container calls this interceptor at each poll
	 */
	boolean armed() {
		return this.armed.get();
	}

	@Override
	public void setupThreadState(Consumer<?, ?> consumer) {
		this.armed.set(true);
	}

	@Override
	public void clearThreadState(Consumer<?, ?> consumer) {
		this.guard.flushDeferred();
	}

}

package io.github.reliablekafka.dispatch;

import java.util.Map;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import org.jspecify.annotations.Nullable;

/**
 * Carries the consumer thread's context with each record to the lane worker that runs it, through Micrometer's
 * context-propagation: the current observation (so the listener's span is the child of the container's), the MDC,
 * and every other thread-local the application registered with {@link ContextRegistry#getInstance()} (a security
 * context, tracing baggage). Captured when the record is dispatched; set around its handling on the worker, and the
 * worker's own values restored afterwards (what the record's context lacks is cleared meanwhile). A record polled
 * without any context carries none, and nothing is set or restored on the worker for it: the cost of an empty context
 * is one look at each thread-local on the consumer thread.
 */
final class RecordContext {

	private final ContextSnapshotFactory snapshots;

	/**
	 * Create the context of one dispatcher: the accessors registered globally when it is created, and the whole MDC.
	 */
	RecordContext() {
		ContextRegistry registry = new ContextRegistry();
		ContextRegistry.getInstance().getThreadLocalAccessors().forEach(registry::registerThreadLocalAccessor);
		registry.registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
		this.snapshots = ContextSnapshotFactory.builder().contextRegistry(registry).clearMissing(true).build();
	}

	/**
	 * Capture the calling thread's context (on the consumer thread, for a record it dispatches).
	 * @return the context, or {@code null} when it holds nothing
	 */
	@Nullable ContextSnapshot capture() {
		ContextSnapshot snapshot = this.snapshots.captureAll();
		return (snapshot instanceof Map<?, ?> values && values.isEmpty()) ? null : snapshot;
	}

}

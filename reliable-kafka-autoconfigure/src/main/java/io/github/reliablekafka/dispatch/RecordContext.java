package io.github.reliablekafka.dispatch;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;

/**
 * Carries the consumer thread's context with each record to the lane worker that runs it, through Micrometer's
 * context-propagation: the current observation (so the listener's span is the child of the container's), the MDC,
 * and every other thread-local the application registered with {@link ContextRegistry#getInstance()} (a security
 * context, tracing baggage). Captured when the record is dispatched; set around its handling on the worker, and the
 * worker's own values restored afterwards (what the record's context lacks is cleared meanwhile).
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

	/** Capture the calling thread's context (on the consumer thread, for a record it dispatches). */
	ContextSnapshot capture() {
		return this.snapshots.captureAll();
	}

}

package io.github.reliablekafka.autoconfigure;

import java.util.function.Supplier;

import io.github.reliablekafka.support.RecordTracing;
import io.github.reliablekafka.support.RkHeaders;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import org.apache.kafka.common.header.Headers;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;

/**
 * {@link RecordTracing} on Micrometer Tracing: the current span's context is written into a message's headers with
 * the application's {@link Propagator} (W3C {@code traceparent} with Spring Boot's defaults), and a publish runs
 * inside a short span ({@code outbox publish}, {@code delay forward}) that continues it, so that the send's own
 * observation, when {@code spring.kafka.template.observation-enabled}, is its child; without it the record keeps the
 * sender's context in its headers, and the consumer continues that. The tracer and propagator are looked up at first
 * use: an application without them carries nothing.
 */
final class MicrometerRecordTracing implements RecordTracing {

	private final ObjectProvider<Tracer> tracers;

	private final ObjectProvider<Propagator> propagators;

	private volatile @Nullable Tracer tracer;

	private volatile @Nullable Propagator propagator;

	private volatile boolean resolved;

	MicrometerRecordTracing(ObjectProvider<Tracer> tracers, ObjectProvider<Propagator> propagators) {
		this.tracers = tracers;
		this.propagators = propagators;
	}

	@Override
	public void inject(Headers headers) {
		Tracer tracing = tracer();
		Propagator propagation = propagator();
		if (tracing == null || propagation == null) {
			return;
		}
		Span current = tracing.currentSpan();
		if (current == null || current.isNoop()) {
			return;
		}
		propagation.inject(current.context(), headers, (carrier, key, value) -> {
			if (carrier != null) {
				RkHeaders.set(carrier, key, value);
			}
		});
	}

	@Override
	public <T> T within(Headers headers, String name, Supplier<T> work) {
		Tracer tracing = tracer();
		Propagator propagation = propagator();
		if (tracing == null || propagation == null || !carriesContext(headers, propagation)) {
			return work.get();
		}
		Span span = propagation.extract(headers, RkHeaders::text).name(name).kind(Span.Kind.PRODUCER).start();
		try (Tracer.SpanInScope scope = tracing.withSpan(span)) {
			return work.get();
		}
		finally {
			span.end();
		}
	}

	private static boolean carriesContext(Headers headers, Propagator propagation) {
		for (String field : propagation.fields()) {
			if (headers.lastHeader(field) != null) {
				return true;
			}
		}
		return false;
	}

	private @Nullable Tracer tracer() {
		resolve();
		return this.tracer;
	}

	private @Nullable Propagator propagator() {
		resolve();
		return this.propagator;
	}

	/** Look the tracer and the propagator up once, at the first send (the context is refreshed by then). */
	private void resolve() {
		if (!this.resolved) {
			synchronized (this) {
				if (!this.resolved) {
					this.tracer = this.tracers.getIfUnique();
					this.propagator = this.propagators.getIfUnique();
					this.resolved = true;
				}
			}
		}
	}

}

package io.github.reliablekafka.testing;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import brave.sampler.Sampler;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.propagation.Propagator;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Brave behind Micrometer Tracing for trace tests, sampling every span and keeping every span that ends. An
 * application gets its {@link Tracer}, {@link Propagator} and an {@link ObservationRegistry} with the tracing
 * handlers from {@link Beans}, for the instance made {@link #current()} last.
 */
public final class BraveTracing implements AutoCloseable {

	private static volatile BraveTracing current;

	private final List<MutableSpan> finished = new CopyOnWriteArrayList<>();

	private final Tracing tracing;

	private final Tracer tracer;

	private final Propagator propagator;

	private BraveTracing(String service) {
		this.tracing = Tracing.newBuilder()
			.localServiceName(service)
			.sampler(Sampler.ALWAYS_SAMPLE)
			.addSpanHandler(new SpanHandler() {
				@Override
				public boolean end(TraceContext context, MutableSpan span, Cause cause) {
					BraveTracing.this.finished.add(span);
					return true;
				}
			})
			.build();
		this.tracer = new BraveTracer(this.tracing.tracer(),
				new BraveCurrentTraceContext(this.tracing.currentTraceContext()), new BraveBaggageManager());
		this.propagator = new BravePropagator(this.tracing);
	}

	/**
	 * Start tracing, and make it the one {@link Beans} gives.
	 * @param service the local service name
	 * @return the tracing, to close after the application
	 */
	public static BraveTracing start(String service) {
		BraveTracing started = new BraveTracing(service);
		current = started;
		return started;
	}

	/**
	 * Return the tracing started last.
	 * @return the tracing
	 */
	public static BraveTracing current() {
		return current;
	}

	public Tracer tracer() {
		return this.tracer;
	}

	public Propagator propagator() {
		return this.propagator;
	}

	/**
	 * Return every span that ended so far (a span ended twice is in it twice).
	 * @return the spans
	 */
	public List<MutableSpan> finished() {
		return this.finished;
	}

	/**
	 * Count the spans that ended, by name and by whether they are in the given trace.
	 * @param traceId the trace
	 * @return {@code "<name> (request's trace)"} or {@code "<name> (other trace)"} to counts
	 */
	public Map<String, Long> spansByName(String traceId) {
		Map<String, Long> spansByName = new TreeMap<>();
		this.finished.forEach((span) -> spansByName.merge(span.name() + " ("
				+ (traceId.equals(span.traceId()) ? "request's trace" : "other trace") + ")", 1L, Long::sum));
		return spansByName;
	}

	@Override
	public void close() {
		this.tracing.close();
	}

	/** The tracer, the propagator and an observation registry with the tracing handlers, of the current tracing. */
	@Configuration(proxyBeanMethods = false)
	public static class Beans {

		@Bean
		Tracer tracer() {
			return current.tracer;
		}

		@Bean
		Propagator propagator() {
			return current.propagator;
		}

		@Bean
		ObservationRegistry observationRegistry() {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig()
				.observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
						new PropagatingSenderTracingObservationHandler<>(current.tracer, current.propagator),
						new PropagatingReceiverTracingObservationHandler<>(current.tracer, current.propagator),
						new DefaultTracingObservationHandler(current.tracer)));
			return registry;
		}

	}

}

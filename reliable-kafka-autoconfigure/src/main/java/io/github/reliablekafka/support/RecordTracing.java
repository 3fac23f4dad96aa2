package io.github.reliablekafka.support;

import java.util.function.Supplier;

import org.apache.kafka.common.header.Headers;

/**
 * Carries the trace of the code that sends a message to where the library publishes it later, on another thread:
 * the sender's trace context is written into the message's headers when it is sent (so it is stored with an outbox
 * row, or travels through a delay tier), and the outbox relay's publish or the delay forwarder's forward runs inside
 * that context, so the consumer's span is in the sender's trace however long the message waited and whichever
 * instance published it. The auto-configuration provides one on Micrometer Tracing when the application traces; a
 * bean of your own replaces it.
 */
public interface RecordTracing {

	/** Carries nothing. */
	RecordTracing NONE = new RecordTracing() {

		@Override
		public void inject(Headers headers) {
		}

		@Override
		public <T> T within(Headers headers, String name, Supplier<T> work) {
			return work.get();
		}

	};

	/**
	 * Write the current trace context, if any, into a message's headers, on the sender's thread.
	 * @param headers the headers of the message being sent
	 */
	void inject(Headers headers);

	/**
	 * Run a publish of a message the library holds inside the trace context its headers carry (or as it is, when
	 * they carry none).
	 * @param headers the message's headers
	 * @param name the name of the span that continues the context ({@code outbox publish}, {@code delay forward})
	 * @param work the publish
	 * @param <T> what it returns
	 * @return what the publish returned
	 */
	<T> T within(Headers headers, String name, Supplier<T> work);

}

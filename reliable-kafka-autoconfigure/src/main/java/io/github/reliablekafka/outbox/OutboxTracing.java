package io.github.reliablekafka.outbox;

import java.util.function.Supplier;

import org.apache.kafka.common.header.Headers;

/**
 * Carries the trace of the code that sends through the outbox to the relay's publish: the sender's trace context is
 * written into the message's headers when it is sent (and so stored with its row), and the relay publishes the row
 * inside that context, so the consumer's span is in the sender's trace however long the row waited and whichever
 * instance published it. The auto-configuration provides one on Micrometer Tracing when the application traces.
 */
public interface OutboxTracing {

	/** Carries nothing. */
	OutboxTracing NONE = new OutboxTracing() {

		@Override
		public void inject(Headers headers) {
		}

		@Override
		public <T> T publish(Headers headers, Supplier<T> send) {
			return send.get();
		}

	};

	/**
	 * Write the current trace context, if any, into a message's headers, on the sender's thread.
	 * @param headers the headers of the message being sent
	 */
	void inject(Headers headers);

	/**
	 * Run the relay's publish of a row inside the trace context its headers carry (or as it is, when they carry none).
	 * @param headers the row's headers
	 * @param send the publish
	 * @param <T> what it returns
	 * @return what the publish returned
	 */
	<T> T publish(Headers headers, Supplier<T> send);

}

package io.github.reliablekafka.internal;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.springframework.kafka.listener.RecordInterceptor;

/**
 * A record interceptor that passes every record through and acts where the container's loop ends: spring-kafka calls
 * {@link #clearThreadState} on the consumer thread after the listener ran a poll's records, before the container
 * commits their offsets (at the start of its next loop).
 */
public abstract class PollEndInterceptor implements RecordInterceptor<String, byte[]> {

	@Override
	public final ConsumerRecord<String, byte[]> intercept(ConsumerRecord<String, byte[]> record,
			Consumer<String, byte[]> consumer) {
		return record;
	}

	/**
	 * What to do where the container's loop ends.
	 * @param consumer the container's consumer
	 */
	@Override
	public abstract void clearThreadState(Consumer<?, ?> consumer);

}

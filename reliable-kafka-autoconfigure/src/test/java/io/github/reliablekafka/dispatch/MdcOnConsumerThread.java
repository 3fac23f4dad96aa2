package io.github.reliablekafka.dispatch;

import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.MDC;

/**
 * Puts a value in the MDC of the consumer thread on every poll, as a tracing bridge would: the dispatcher must carry
 * it to the lane threads.
 */
public class MdcOnConsumerThread implements ConsumerInterceptor<Object, Object> {

	static final String KEY = "test.mdc";

	@Override
	public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
		MDC.put(KEY, "set-on-" + Thread.currentThread().getName());
		return records;
	}

	@Override
	public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
	}

	@Override
	public void close() {
	}

	@Override
	public void configure(Map<String, ?> configs) {
	}

}

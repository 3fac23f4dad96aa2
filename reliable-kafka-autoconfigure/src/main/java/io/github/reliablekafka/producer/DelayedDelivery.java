package io.github.reliablekafka.producer;

import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Holds back a record that must not be delivered before a due time, without a database: it turns the record meant
 * for its target topic into the record to send now (to a delay topic, with the plan in its headers).
 */
@FunctionalInterface
public interface DelayedDelivery {

	/**
	 * Plan the delivery of a record.
	 * @param record the record as it would go to its target topic, with its {@code rk-id}
	 * @param dueAt epoch milliseconds before which it must not reach the target topic
	 * @return the record to send now
	 */
	ProducerRecord<String, byte[]> schedule(ProducerRecord<String, byte[]> record, long dueAt);

}

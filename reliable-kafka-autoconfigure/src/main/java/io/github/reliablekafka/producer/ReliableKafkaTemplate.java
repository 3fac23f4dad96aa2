package io.github.reliablekafka.producer;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.SendResult;

/**
 * Sends messages to Kafka and never loses an acknowledged one silently: every send ends in exactly one final
 * outcome, reported to its future and to the {@link SendOutcomeListener}s.
 *
 * <p>
 * Payloads: {@code String} is sent as UTF-8, {@code byte[]} as is, anything else as JSON (fastjson2, autoType
 * never enabled); {@code null} is a tombstone. Every record carries a fresh {@code rk-id} header; a record sent
 * through the outbox also carries {@code rk-created-at} (when its row was written), a direct send's creation time is
 * its Kafka timestamp.
 *
 * <p>
 * <b>Retries:</b> when the Kafka client gives up on a record (its {@code delivery.timeout.ms} passed, or a
 * retriable error it stopped retrying), the record is sent again with exponential back-off until
 * {@code reliable.kafka.producer.retry.max-attempts} attempts were made. Errors no retry can fix (record too large,
 * not authorised, invalid topic) end the send at once. While a topic's metadata is unavailable (the whole cluster
 * is down, say), only one send at a time waits {@code max.block.ms} for it and the others' attempts fail at once,
 * so however many sends wait, each reaches its final outcome within about
 * {@code max-attempts x (delivery.timeout.ms + max.block.ms)} plus the back-off waits.
 *
 * <p>
 * <b>Order:</b> records with the same topic and key are delivered in the order they were sent. While a record is
 * waiting for a retry, later records of its key wait behind it. A later record that the client had already
 * handed to the broker when the earlier one failed cannot be recalled; if it is acknowledged first, the order
 * break is logged at WARN and reported to the listeners. With the default client settings this needs a
 * partition to be unavailable for longer than {@code delivery.timeout.ms} (two minutes).
 *
 * <p>
 * <b>Back-pressure:</b> at most {@code reliable.kafka.producer.max-in-flight} sends await an outcome; further calls
 * to {@code send} block up to {@code reliable.kafka.producer.max-block}, then return a failed future. Nothing is
 * dropped.
 *
 * <p>
 * Futures complete on the template's single outcome thread ({@code rk-producer-outcome-1}), never on the Kafka
 * client's I/O thread. Do not block in a dependent stage (and never call {@code sendAndWait} there): use the
 * {@code ...Async} variants for work that may block.
 */
public interface ReliableKafkaTemplate {

	/**
	 * Send a message.
	 * @param topic the topic, not blank
	 * @param key the key, which picks the partition and the order; {@code null} for no key
	 * @param payload the payload
	 * @return a future that completes with the result once Kafka acknowledged the record, or exceptionally once every
	 * attempt failed: with a {@link ReliableSendException} when no copy can exist, with a
	 * {@link ReliableSendInDoubtException} when one may (an attempt failed after the record reached the broker); it
	 * knows the message's id at once
	 * @throws IllegalArgumentException when the topic is blank or the record exceeds {@code max.request.size}
	 * @throws io.github.reliablekafka.support.PayloadCodecException when the payload cannot be serialized
	 * @throws IllegalStateException when the template was closed
	 */
	SendFuture send(String topic, @Nullable String key, @Nullable Object payload);

	/**
	 * Send a message and wait for its outcome, up to {@code reliable.kafka.producer.send-timeout}.
	 * @param topic the topic, not blank
	 * @param key the key; {@code null} for no key
	 * @param payload the payload
	 * @return the result once Kafka acknowledged the record
	 * @throws ReliableSendException when every attempt failed, or no outcome came within the timeout (the send
	 * then goes on in the background and its outcome is still logged)
	 * @throws IllegalArgumentException when the topic is blank or the record exceeds {@code max.request.size}
	 * @throws io.github.reliablekafka.support.PayloadCodecException when the payload cannot be serialized
	 */
	SendResult<String, byte[]> sendAndWait(String topic, @Nullable String key, @Nullable Object payload);

	/**
	 * Schedule a message for delivery after a delay, never earlier. With the transactional outbox the message is a
	 * row whose not-before time holds it back; without it, it goes through the delay tier topics
	 * ({@code reliable.kafka.delay.*}), whose forwarder delivers it when due. Both survive restarts.
	 * @param topic the topic, not blank
	 * @param key the key; {@code null} for no key
	 * @param payload the payload
	 * @param delay how long to wait, not negative
	 * @return a future that completes once the message is durably scheduled (committed with the caller's
	 * transaction with the outbox; confirmed by Kafka in its first tier without)
	 * @throws UnsupportedOperationException when this template has no way to delay messages
	 */
	default CompletableFuture<ScheduledMessage> sendDelayed(String topic, @Nullable String key,
			@Nullable Object payload, Duration delay) {
		throw new UnsupportedOperationException("Delayed delivery needs the transactional outbox (a DataSource with "
				+ "reliable.kafka.outbox.enabled=true) or the delay tiers (reliable.kafka.delay.enabled=true)");
	}

	/**
	 * Return a builder for a template that sends directly to Kafka.
	 * @param kafkaOperations the template to send with; it must serialize {@code String} keys and {@code byte[]}
	 * values
	 * @return the builder
	 */
	static ReliableKafkaTemplateBuilder builder(org.springframework.kafka.core.KafkaOperations<String, byte[]> kafkaOperations) {
		return new ReliableKafkaTemplateBuilder(kafkaOperations);
	}

}

package io.github.reliablekafka.autoconfigure.producer;

import java.time.Duration;

import io.github.reliablekafka.autoconfigure.RetryProperties;


import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/**
 * Configuration of the reliable producer. The Kafka client itself is configured under
 * {@code spring.kafka.producer.*}; settings made there win over the library's safe defaults.
 */
@ConfigurationProperties("reliable.kafka.producer")
public class ReliableKafkaProducerProperties {

	/**
	 * How long sendAndWait waits for Kafka's acknowledgement before it throws. Closing the application waits as
	 * long for the outcomes of sends still in flight. With the outbox, how long a send's future waits for Kafka's
	 * confirmation (the message itself stays committed and is still published).
	 */
	private Duration sendTimeout = Duration.ofSeconds(30);

	/**
	 * Maximum number of sends awaiting an outcome at once. Beyond it, send blocks.
	 */
	private int maxInFlight = 10_000;

	/**
	 * How long send blocks while max-in-flight sends await an outcome, before its future fails.
	 */
	private Duration maxBlock = Duration.ofSeconds(60);

	/**
	 * Retries after the Kafka client gave up on a record (its delivery.timeout.ms passed).
	 */
	@NestedConfigurationProperty
	private final RetryProperties retry = new RetryProperties(5, Duration.ofMillis(500), 2.0, Duration.ofSeconds(30));

	public Duration getSendTimeout() {
		return this.sendTimeout;
	}

	public void setSendTimeout(Duration sendTimeout) {
		this.sendTimeout = sendTimeout;
	}

	public int getMaxInFlight() {
		return this.maxInFlight;
	}

	public void setMaxInFlight(int maxInFlight) {
		this.maxInFlight = maxInFlight;
	}

	public Duration getMaxBlock() {
		return this.maxBlock;
	}

	public void setMaxBlock(Duration maxBlock) {
		this.maxBlock = maxBlock;
	}

	public RetryProperties getRetry() {
		return this.retry;
	}

}

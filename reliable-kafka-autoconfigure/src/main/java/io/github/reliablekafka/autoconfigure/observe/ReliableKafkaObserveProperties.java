package io.github.reliablekafka.autoconfigure.observe;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of consumer lag, the health indicator and replay.
 */
@ConfigurationProperties("reliable.kafka.observe")
public class ReliableKafkaObserveProperties {

	/**
	 * How often the consumer lag of the application's groups is measured (gauge reliable.kafka.consumer.lag, and the
	 * retention warnings).
	 */
	private Duration lagInterval = Duration.ofSeconds(10);

	/**
	 * Largest acceptable lag of one partition, in records; beyond it the health indicator reports lag-status.
	 */
	private long lagThreshold = 10_000;

	/**
	 * Health status reported while a partition's lag is above lag-threshold.
	 */
	private String lagStatus = "OUT_OF_SERVICE";

	/**
	 * How long an outbox row may wait for Kafka's confirmation before the health indicator reports outbox-age-status.
	 */
	private Duration outboxAgeThreshold = Duration.ofMinutes(5);

	/**
	 * Health status reported while the oldest pending outbox row is older than outbox-age-threshold.
	 */
	private String outboxAgeStatus = "OUT_OF_SERVICE";

	/**
	 * How long lag measurements and replays wait for the cluster's answers (and a replay for the group to empty).
	 */
	private Duration timeout = Duration.ofSeconds(30);

	public Duration getLagInterval() {
		return this.lagInterval;
	}

	public void setLagInterval(Duration lagInterval) {
		this.lagInterval = lagInterval;
	}

	public long getLagThreshold() {
		return this.lagThreshold;
	}

	public void setLagThreshold(long lagThreshold) {
		this.lagThreshold = lagThreshold;
	}

	public String getLagStatus() {
		return this.lagStatus;
	}

	public void setLagStatus(String lagStatus) {
		this.lagStatus = lagStatus;
	}

	public Duration getOutboxAgeThreshold() {
		return this.outboxAgeThreshold;
	}

	public void setOutboxAgeThreshold(Duration outboxAgeThreshold) {
		this.outboxAgeThreshold = outboxAgeThreshold;
	}

	public String getOutboxAgeStatus() {
		return this.outboxAgeStatus;
	}

	public void setOutboxAgeStatus(String outboxAgeStatus) {
		this.outboxAgeStatus = outboxAgeStatus;
	}

	public Duration getTimeout() {
		return this.timeout;
	}

	public void setTimeout(Duration timeout) {
		this.timeout = timeout;
	}

}

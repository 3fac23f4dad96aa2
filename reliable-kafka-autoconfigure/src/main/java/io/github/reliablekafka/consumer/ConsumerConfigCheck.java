package io.github.reliablekafka.consumer;

import java.time.Duration;
import java.util.Map;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, at startup, the consumer configuration a reliable listener's container will run with: one that would
 * commit before the work is done ({@code enable.auto.commit=true}) or make rebalances likely ({@code session.timeout.ms}
 * below three heartbeats) stops the application with a failure report that says what to change; retries that can
 * outlast {@code max.poll.interval.ms} are warned about.
 */
final class ConsumerConfigCheck {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaListenerContainerFactory.class);

	private ConsumerConfigCheck() {
	}

	/**
	 * Check a listener's effective consumer configuration.
	 * @param listener the listener's id, for the messages
	 * @param config the consumer factory's configuration with the container's overrides
	 * @param worstCaseRetry the longest one record's retries can wait in all
	 * @throws ReliableKafkaConfigurationException when the configuration weakens the listener's guarantees
	 */
	static void check(String listener, Map<String, Object> config, Duration worstCaseRetry) {
		Object autoCommit = config.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
		if (autoCommit != null && Boolean.parseBoolean(autoCommit.toString().trim())) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + listener + "' is configured with "
					+ "enable.auto.commit=true: the consumer would commit offsets before the work is done and lose "
					+ "records on a crash.", "Remove the setting (spring.kafka.consumer.enable-auto-commit, or "
							+ "enable.auto.commit in the listener's properties); reliable listeners commit after the "
							+ "listener returns.");
		}
		// with the consumer protocol (KIP-848) session and heartbeat are broker settings: nothing to check here
		if (!"consumer".equalsIgnoreCase(String.valueOf(config.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG)).trim())) {
			checkSession(listener, config);
		}
		long maxPollInterval = millis(config, ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 300_000);
		if (worstCaseRetry.toMillis() >= maxPollInterval) {
			logger.warn("Reliable listener '{}': retrying one record can wait {} ms in all "
					+ "(reliable.kafka.consumer.retry.*), not less than max.poll.interval.ms={}; a record that keeps "
					+ "failing can make the consumer leave its group. Lower the retries or raise max.poll.interval.ms.",
					listener, worstCaseRetry.toMillis(), maxPollInterval);
		}
	}

	/** With the classic group protocol, a session shorter than three heartbeats is expelled by one late heartbeat. */
	private static void checkSession(String listener, Map<String, Object> config) {
		long session = millis(config, ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 45_000);
		long heartbeat = millis(config, ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);
		if (session < 3 * heartbeat) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + listener + "' has session.timeout.ms="
					+ session + " below 3 x heartbeat.interval.ms=" + heartbeat + ": one late heartbeat would expel the "
					+ "consumer and start a rebalance.", "Set session.timeout.ms to at least " + (3 * heartbeat)
							+ " (spring.kafka.consumer.properties.session.timeout.ms), or lower heartbeat.interval.ms.");
		}
	}

	private static long millis(Map<String, Object> config, String key, long defaultValue) {
		Object value = config.get(key);
		return (value != null) ? Long.parseLong(value.toString().trim()) : defaultValue;
	}

}

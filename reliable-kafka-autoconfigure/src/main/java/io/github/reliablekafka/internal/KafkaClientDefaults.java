package io.github.reliablekafka.internal;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Settings the library gives the Kafka clients it creates, unless the application set them: what keeps a cluster
 * that cannot be reached from flooding the log.
 *
 * <ul>
 * <li>{@code metadata.recovery.strategy=none} on every client. With Kafka 4.2's default ({@code rebootstrap}) a
 * client whose brokers are all unreachable "rebootstraps" on every pass of its network loop and logs each at INFO:
 * measured with a wrong bootstrap address, 2,800 lines a second from one admin client, 5 a second from a producer.
 * With {@code none} a client keeps reconnecting to the brokers it knows (their host names are resolved again on each
 * attempt), which is what every Kafka client did before 3.8.</li>
 * <li>{@code reconnect.backoff.max.ms=10000} on consumers and admin clients (Kafka's default is 1000): a consumer
 * that cannot reach its broker logs a connection failure about every 10 seconds rather than every second, and
 * reconnects at most 10 seconds after the broker is back. Producers keep Kafka's default: their reconnection time
 * is a send's latency.</li>
 * <li>{@code reconnect.backoff.ms=1000} on the library's own admin clients (the doctor, the lag monitor, replay, the
 * delay topics): their work is never urgent, and a connection that failed is tried again a second later rather
 * than after 50 ms.</li>
 * </ul>
 */
public final class KafkaClientDefaults {

	/** The longest wait between two connection attempts of a consumer or admin client, in milliseconds. */
	static final int QUIET_RECONNECT_BACKOFF_MAX_MS = 10_000;

	private KafkaClientDefaults() {
	}

	/**
	 * Add the defaults of a producer to its settings, where the application set nothing.
	 * @param config the settings, changed in place
	 */
	public static void producer(Map<String, Object> config) {
		config.putIfAbsent(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
	}

	/**
	 * Add the defaults of a consumer to its settings, where the application set nothing.
	 * @param config the settings, changed in place
	 */
	public static void consumer(Map<String, Object> config) {
		config.putIfAbsent(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
		config.putIfAbsent(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, QUIET_RECONNECT_BACKOFF_MAX_MS);
	}

	/**
	 * Create an admin client of the library's: the application's admin settings (bootstrap servers, security), the
	 * defaults above, a client id and time-outs.
	 * @param adminConfig the application's admin settings
	 * @param clientId names the client in Kafka's logs and metrics
	 * @param timeout the longest an operation waits for the cluster
	 * @return the client; the caller closes it
	 */
	public static Admin admin(Map<String, Object> adminConfig, String clientId, Duration timeout) {
		Map<String, Object> config = new HashMap<>(adminConfig);
		consumer(config);
		config.putIfAbsent(CommonClientConfigs.RECONNECT_BACKOFF_MS_CONFIG, 1_000);
		int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
		config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
		config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(millis, 30_000));
		config.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
		return Admin.create(config);
	}

}

package io.github.reliablekafka.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.jspecify.annotations.Nullable;

/**
 * The producer settings that keep acknowledged records from being lost, reordered or duplicated by the client's
 * own retries: {@code acks=all}, {@code enable.idempotence=true}, {@code retries=Integer.MAX_VALUE},
 * {@code max.in.flight.requests.per.connection=5}, {@code delivery.timeout.ms=120000}.
 *
 * <p>
 * A setting the user made always wins. A default that would clash with one (idempotence with {@code acks=1}, say)
 * is left out rather than make the producer refuse to start; {@link #unsafeSettings(Map)} names what remains
 * unsafe.
 */
public final class SafeProducerDefaults {

	private static final String ALL = "all";

	private SafeProducerDefaults() {
	}

	/**
	 * Return the safe defaults a configuration lacks, leaving out any that would clash with a user setting.
	 * @param configs the producer configuration as the user set it
	 * @return the settings to add
	 */
	public static Map<String, Object> missingDefaults(Map<String, Object> configs) {
		Map<String, Object> updates = new LinkedHashMap<>();
		if (!configs.containsKey(ProducerConfig.ACKS_CONFIG)) {
			updates.put(ProducerConfig.ACKS_CONFIG, ALL);
		}
		if (!configs.containsKey(ProducerConfig.RETRIES_CONFIG)) {
			updates.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
		}
		if (!configs.containsKey(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION)) {
			updates.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
		}
		if (!configs.containsKey(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG) && idempotenceFits(configs)) {
			updates.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
		}
		if (!configs.containsKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)
				&& longValue(configs, ProducerConfig.LINGER_MS_CONFIG, 5)
						+ longValue(configs, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000) <= 120_000) {
			updates.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
		}
		return updates;
	}

	/**
	 * Describe each setting of an effective configuration that can lose, duplicate or reorder records.
	 * @param configs the producer configuration with defaults applied
	 * @return one line per unsafe setting, with its risk and its fix; empty when all is safe
	 */
	public static List<String> unsafeSettings(Map<String, Object> configs) {
		List<String> unsafe = new ArrayList<>();
		String acks = text(configs, ProducerConfig.ACKS_CONFIG, ALL);
		if (!ALL.equals(acks) && !"-1".equals(acks)) {
			unsafe.add("acks=" + acks + ": a record acknowledged before the in-sync replicas have it is lost when "
					+ "the leader fails; set spring.kafka.producer.acks=all");
		}
		if (!Boolean.parseBoolean(text(configs, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true"))) {
			unsafe.add("enable.idempotence=false: the client's retries can write a record twice and reorder records; "
					+ "remove the setting or set it to true");
		}
		if (longValue(configs, ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE) == 0) {
			unsafe.add("retries=0: a transient broker error fails the attempt at once; remove the setting");
		}
		long maxInFlight = longValue(configs, ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
		if (maxInFlight > 5) {
			unsafe.add("max.in.flight.requests.per.connection=" + maxInFlight
					+ ": above 5 the client cannot keep order on retries; use 5 or less");
		}
		return unsafe;
	}

	private static boolean idempotenceFits(Map<String, Object> configs) {
		String acks = text(configs, ProducerConfig.ACKS_CONFIG, ALL);
		return (ALL.equals(acks) || "-1".equals(acks)) && longValue(configs, ProducerConfig.RETRIES_CONFIG, 1) != 0
				&& longValue(configs, ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5) <= 5;
	}

	private static String text(Map<String, Object> configs, String key, String defaultValue) {
		@Nullable Object value = configs.get(key);
		return (value != null) ? value.toString().trim().toLowerCase(Locale.ROOT) : defaultValue;
	}

	private static long longValue(Map<String, Object> configs, String key, long defaultValue) {
		@Nullable Object value = configs.get(key);
		if (value == null) {
			return defaultValue;
		}
		try {
			return Long.parseLong(value.toString().trim());
		}
		catch (NumberFormatException ex) {
			return defaultValue;
		}
	}

}

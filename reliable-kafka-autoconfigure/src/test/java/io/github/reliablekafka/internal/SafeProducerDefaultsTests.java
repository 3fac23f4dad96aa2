package io.github.reliablekafka.internal;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SafeProducerDefaultsTests {

	@Test
	void allDefaultsAreAddedToAnEmptyConfiguration() {
		assertThat(SafeProducerDefaults.missingDefaults(Map.of())).containsExactly(
				Map.entry(ProducerConfig.ACKS_CONFIG, "all"), Map.entry(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE),
				Map.entry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5),
				Map.entry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
				Map.entry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000));
		assertThat(SafeProducerDefaults.unsafeSettings(SafeProducerDefaults.missingDefaults(Map.of()))).isEmpty();
	}

	@Test
	void userSettingsWinAndAreReportedWhenUnsafe() {
		Map<String, Object> user = Map.of(ProducerConfig.ACKS_CONFIG, "1", ProducerConfig.RETRIES_CONFIG, "3");
		Map<String, Object> added = SafeProducerDefaults.missingDefaults(user);
		assertThat(added).doesNotContainKeys(ProducerConfig.ACKS_CONFIG, ProducerConfig.RETRIES_CONFIG);
		Map<String, Object> effective = new HashMap<>(user);
		effective.putAll(added);
		assertThat(SafeProducerDefaults.unsafeSettings(effective)).singleElement()
			.asString()
			.startsWith("acks=1")
			.contains("acks=all");
	}

	@Test
	void idempotenceIsNotForcedWhereItWouldStopTheProducerFromStarting() {
		assertThat(SafeProducerDefaults.missingDefaults(Map.of(ProducerConfig.ACKS_CONFIG, "1")))
			.doesNotContainKey(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
		assertThat(SafeProducerDefaults.missingDefaults(Map.of(ProducerConfig.RETRIES_CONFIG, 0)))
			.doesNotContainKey(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
		assertThat(SafeProducerDefaults.missingDefaults(Map.of(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "10")))
			.doesNotContainKey(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
	}

	@Test
	void deliveryTimeoutIsLeftOutWhenItWouldBeShorterThanLingerPlusRequestTimeout() {
		assertThat(SafeProducerDefaults.missingDefaults(Map.of(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "150000")))
			.doesNotContainKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
	}

	@Test
	void everyUnsafeSettingIsNamed() {
		Map<String, Object> effective = Map.of(ProducerConfig.ACKS_CONFIG, "0", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
				"false", ProducerConfig.RETRIES_CONFIG, "0", ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 8);
		assertThat(SafeProducerDefaults.unsafeSettings(effective)).hasSize(4);
	}

}

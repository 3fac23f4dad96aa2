package io.github.reliablekafka.autoconfigure.delay;

import org.junit.jupiter.api.Test;

import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default names of the delay topics and the forwarders' group, as a user gets them: every other test sets its
 * own topic prefix.
 */
class DelayNamesTests {

	private final ReliableKafkaDelayProperties defaults = new ReliableKafkaDelayProperties();

	@Test
	void theDefaultTopicsAndGroupArePerApplication() {
		MockEnvironment environment = new MockEnvironment().withProperty("spring.application.name", "orders");
		assertThat(ReliableKafkaDelayAutoConfiguration.perApplication(this.defaults.getTopicPrefix(), environment))
			.isEqualTo("rk-delay-orders-");
		assertThat(ReliableKafkaDelayAutoConfiguration.perApplication(this.defaults.getGroupId(), environment))
			.isEqualTo("rk-delay-forwarder-orders");
	}

	@Test
	void withoutAnApplicationNameTheNamePartAndItsDashAreLeftOut() {
		MockEnvironment environment = new MockEnvironment();
		assertThat(ReliableKafkaDelayAutoConfiguration.perApplication(this.defaults.getTopicPrefix(), environment))
			.isEqualTo("rk-delay-");
		assertThat(ReliableKafkaDelayAutoConfiguration.perApplication(this.defaults.getGroupId(), environment))
			.isEqualTo("rk-delay-forwarder");
		assertThat(ReliableKafkaDelayAutoConfiguration.perApplication("${spring.application.name}-later-", environment))
			.isEqualTo("later-");
	}

	@Test
	void anApplicationNameIsCutToTheCharactersATopicNameMayHaveAndOtherNamesAreKept() {
		MockEnvironment environment = new MockEnvironment().withProperty("spring.application.name", " Order Service/EU ");
		assertThat(ReliableKafkaDelayAutoConfiguration.perApplication(this.defaults.getTopicPrefix(), environment))
			.isEqualTo("rk-delay-Order-Service-EU-");
		assertThat(ReliableKafkaDelayAutoConfiguration.perApplication("shared--delay-", environment))
			.as("a name without the application's is left as it is").isEqualTo("shared--delay-");
	}

}

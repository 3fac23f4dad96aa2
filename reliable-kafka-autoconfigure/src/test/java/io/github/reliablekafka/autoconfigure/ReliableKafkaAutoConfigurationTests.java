package io.github.reliablekafka.autoconfigure;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.testing.KafkaTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.support.converter.RecordMessageConverter;
import org.springframework.kafka.support.converter.StringJsonMessageConverter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every capability shares, and the settings that would silently weaken a guarantee: unknown
 * {@code reliable.kafka.*} keys, a transaction id prefix, and the application's own error handler and converter,
 * each said at startup.
 */
@ExtendWith(OutputCaptureExtension.class)
class ReliableKafkaAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, ReliableKafkaAutoConfiguration.class,
				ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class))
		.withPropertyValues("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers());

	@Test
	void theLibrarysBackgroundWorkSharesOneAdminClient() {
		this.contextRunner.run((context) -> assertThat(context).hasSingleBean(SharedAdmin.class));
	}

	@Test
	void anUnknownPropertyIsWarnedWithTheNearestKnownOne(CapturedOutput output) {
		this.contextRunner
			.withPropertyValues("reliable.kafka.outbox.retry.max-dealy=1s", "reliable.kafka.consumer.retry.max-attempts=4",
					"reliable.kafka.delay.tiers[0]=1s", "reliable.kafka.something-else-entirely=1")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(output).contains("Unknown property reliable.kafka.outbox.retry.max-dealy")
					.contains("did you mean reliable.kafka.outbox.retry.max-delay?")
					.contains("Unknown property reliable.kafka.something-else-entirely")
					.doesNotContain("Unknown property reliable.kafka.consumer.retry.max-attempts")
					.doesNotContain("Unknown property reliable.kafka.delay.tiers");
			});
	}

	@Test
	void aRenamedRetryPropertyIsWarnedWithItsNewName(CapturedOutput output) {
		this.contextRunner
			.withPropertyValues("reliable.kafka.consumer.retry.initial-interval=1s",
					"reliable.kafka.outbox.max-attempts=3")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(output).contains("Property reliable.kafka.consumer.retry.initial-interval")
					.contains("was renamed to reliable.kafka.consumer.retry.delay")
					.contains("Property reliable.kafka.outbox.max-attempts")
					.contains("was renamed to reliable.kafka.outbox.retry.max-attempts");
			});
	}

	@Test
	void aTransactionIdPrefixIsWarnedAndReliableListenersRunWithoutKafkaTransactions(CapturedOutput output) {
		this.contextRunner.withPropertyValues("spring.kafka.producer.transaction-id-prefix=tx-").run((context) -> {
			assertThat(context).hasNotFailed();
			ReliableKafkaListenerContainerFactory factory = context.getBean(ReliableListener.CONTAINER_FACTORY,
					ReliableKafkaListenerContainerFactory.class);
			assertThat(factory.getContainerProperties().getKafkaAwareTransactionManager()).isNull();
			assertThat(output).contains("spring.kafka.producer.transaction-id-prefix is set: ReliableKafkaTemplate's "
					+ "sends are not part of Kafka transactions")
				.contains("Reliable listeners do not run in Kafka transactions");
		});
	}

	@Test
	void theApplicationsErrorHandlerAndConverterAreSaidNotToApplyToReliableListeners(CapturedOutput output) {
		this.contextRunner.withBean(CommonErrorHandler.class, DefaultErrorHandler::new)
			.withBean(RecordMessageConverter.class, StringJsonMessageConverter::new)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(output).contains("The application's CommonErrorHandler (" + DefaultErrorHandler.class.getName()
						+ ") is not used by reliable listeners")
					.contains("The application's RecordMessageConverter");
			});
	}

}

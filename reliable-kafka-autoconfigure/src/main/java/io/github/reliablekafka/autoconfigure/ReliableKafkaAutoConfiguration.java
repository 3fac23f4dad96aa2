package io.github.reliablekafka.autoconfigure;

import java.util.Map;

import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.support.RecordTracing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.kafka.core.KafkaAdmin;

/**
 * Auto-configuration of what every capability shares: the admin client of the library's background work
 * ({@link SharedAdmin}: the settings of Spring Boot's {@link KafkaAdmin}, or of {@code spring.kafka.*} when the
 * application has none), and the startup warning for {@code reliable.kafka.*} settings that no property has.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class)
@ConditionalOnClass({ KafkaAdmin.class, KafkaAutoConfiguration.class })
public final class ReliableKafkaAutoConfiguration {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaAutoConfiguration.class);

	@Bean
	static SmartInitializingSingleton reliableKafkaUnknownPropertyCheck(Environment environment,
			ResourceLoader resourceLoader) {
		return () -> UnknownPropertyCheck.warnings(environment, resourceLoader.getClassLoader()).forEach(logger::warn);
	}

	@Bean
	SharedAdmin reliableKafkaSharedAdmin(ObjectProvider<KafkaAdmin> kafkaAdmin,
			ObjectProvider<KafkaProperties> kafkaProperties) {
		KafkaAdmin admin = kafkaAdmin.getIfUnique();
		if (admin != null) {
			return new SharedAdmin(admin.getConfigurationProperties());
		}
		KafkaProperties properties = kafkaProperties.getIfAvailable(KafkaProperties::new);
		Map<String, Object> config = properties.buildAdminProperties();
		return new SharedAdmin(config);
	}

	/** With Micrometer Tracing on the class path: senders' traces carried to the library's later publishes. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "io.micrometer.tracing.Tracer", "io.micrometer.tracing.propagation.Propagator" })
	static class TracingConfiguration {

		@Bean
		@ConditionalOnMissingBean
		RecordTracing reliableKafkaRecordTracing(ObjectProvider<io.micrometer.tracing.Tracer> tracers,
				ObjectProvider<io.micrometer.tracing.propagation.Propagator> propagators) {
			return new MicrometerRecordTracing(tracers, propagators);
		}

	}

}

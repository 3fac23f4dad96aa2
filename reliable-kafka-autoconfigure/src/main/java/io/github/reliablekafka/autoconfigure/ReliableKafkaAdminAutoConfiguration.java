package io.github.reliablekafka.autoconfigure;

import java.util.Map;

import io.github.reliablekafka.support.SharedAdmin;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.core.KafkaAdmin;

/**
 * Auto-configuration of the admin client the library's background work shares ({@link SharedAdmin}): the settings
 * of Spring Boot's {@link KafkaAdmin}, or of {@code spring.kafka.*} when the application has none.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class)
@ConditionalOnClass({ KafkaAdmin.class, KafkaAutoConfiguration.class })
public final class ReliableKafkaAdminAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
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

}

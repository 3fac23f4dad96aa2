package io.github.reliablekafka.samples.orders;

import org.apache.kafka.clients.admin.NewTopic;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;

/**
 * The service's topics, created at startup if missing: 3 partitions each, replication per
 * {@code orders.replication-factor} (the broker's default unless set; use 3 on a real cluster).
 */
@Configuration(proxyBeanMethods = false)
class Topics {

	@Bean
	KafkaAdmin.NewTopics orderTopics(@Value("${orders.replication-factor:-1}") short replicationFactor) {
		return new KafkaAdmin.NewTopics(topic(Events.ORDERS, replicationFactor),
				topic(Events.ORDER_EVENTS, replicationFactor), topic(Events.ORDER_EVENTS + ".DLT", replicationFactor),
				topic(Events.ORDER_TIMEOUTS, replicationFactor));
	}

	private static NewTopic topic(String name, short replicationFactor) {
		TopicBuilder builder = TopicBuilder.name(name).partitions(3);
		if (replicationFactor > 0) {
			builder.replicas(replicationFactor);
		}
		return builder.build();
	}

}

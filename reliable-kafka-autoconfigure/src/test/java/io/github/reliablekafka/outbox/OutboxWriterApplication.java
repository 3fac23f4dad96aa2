package io.github.reliablekafka.outbox;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A child application for crash tests: commits a business row and an outbox message in one transaction, again and
 * again, until it is killed. Arguments: JDBC URL, bootstrap servers, topic. Each business row holds the id of the
 * message committed with it, so the test can tell exactly what was committed.
 */
public final class OutboxWriterApplication {

	private OutboxWriterApplication() {
	}

	public static void main(String[] args) {
		ConfigurableApplicationContext context = OutboxTestApplication.start(args[0], args[1],
				"reliable.kafka.outbox.relay.lease=5s");
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
		JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
		for (long i = 1;; i++) {
			long sequence = i;
			String key = "k" + (i % 20);
			transactions.executeWithoutResult((status) -> {
				String messageId = template.send(args[2], key, key + ":" + sequence).messageId();
				jdbc.update("INSERT INTO business_event (id, message_id) VALUES (?, ?)", sequence, messageId);
			});
			if (i % 500 == 0) {
				System.out.println("committed " + i);
			}
		}
	}

}

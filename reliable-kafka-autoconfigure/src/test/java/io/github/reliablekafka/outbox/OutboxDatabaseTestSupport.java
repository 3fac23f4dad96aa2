package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What the outbox's database contracts share: a fresh database per test (from the subclass for each database), the
 * applications started on it, closed after the test, and row counts.
 */
abstract class OutboxDatabaseTestSupport {

	private TestDatabase database;

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	protected abstract TestDatabase createDatabase();

	@BeforeEach
	void createDatabaseForTest() {
		this.database = createDatabase();
	}

	@AfterEach
	void closeEverything() {
		Collections.reverse(this.contexts);
		this.contexts.forEach(ConfigurableApplicationContext::close);
		this.database.close();
	}

	TestDatabase database() {
		return this.database;
	}

	ConfigurableApplicationContext startOn(String bootstrapServers, String... properties) {
		ConfigurableApplicationContext context = OutboxTestApplication.start(this.database.url(), bootstrapServers,
				properties);
		this.contexts.add(context);
		return context;
	}

	ConfigurableApplicationContext start(String... properties) {
		return startOn(KafkaTestSupport.bootstrapServers(), properties);
	}

	long rows(String sql) {
		Long count = new JdbcTemplate(this.database.dataSource()).queryForObject(sql, Long.class);
		return (count != null) ? count : 0;
	}

}

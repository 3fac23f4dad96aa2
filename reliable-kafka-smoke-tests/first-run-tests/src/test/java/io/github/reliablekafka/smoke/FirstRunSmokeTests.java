package io.github.reliablekafka.smoke;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TestServices;
import org.junit.jupiter.api.Test;

import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A new user's first run, on every dependency set users have: the starter alone, with JDBC (PostgreSQL, H2), with
 * Redis, with actuator, and all of them. Each application runs in its own JVM on exactly the class path Maven
 * resolves for its dependencies, sends one message with the {@code ReliableKafkaTemplate} to a real broker and
 * receives it with a {@code @ReliableListener}, with no schema, topic or other setting beyond the bootstrap servers
 * (and the database or Redis URL); its log has no WARN or ERROR line, and it stops promptly on SIGTERM.
 */
class FirstRunSmokeTests {

	private static final Duration STARTUP = Duration.ofSeconds(90);

	@Test
	void aStarterOnlyApplicationStartsAndDeliversAMessage() {
		deliversOneMessageCleanly("starter-only", List.of());
	}

	@Test
	void aJdbcApplicationOnPostgresqlStartsAndDeliversAMessage() {
		try (TestDatabase database = TestDatabase.postgres()) {
			deliversOneMessageCleanly("jdbc-postgresql", List.of("--spring.datasource.url=" + database.url()));
		}
	}

	@Test
	void anApplicationWithADataSourceAndNoSchemaSettingWorksOrRefusesToStartNamingTheFix() {
		try (TestDatabase database = TestDatabase.postgres()) {
			deliversOneMessageCleanly("jdbc-postgresql", List.of("--spring.datasource.url=" + database.url()));
			assertThat(database.dataSource()).as("the tables it created").satisfies((dataSource) -> {
				JdbcTemplate jdbc = new JdbcTemplate(dataSource);
				assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM rk_outbox", Long.class)).isOne();
				assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM rk_consumed", Long.class)).isOne();
			});
		}
		try (TestDatabase database = TestDatabase.postgres()) {
			String report = refusesToStart("jdbc-postgresql", List.of("--spring.datasource.url=" + database.url(),
					"--reliable.kafka.outbox.initialize-schema=never"));
			assertThat(report).contains("The outbox table 'rk_outbox' does not exist")
				.contains("Set reliable.kafka.outbox.initialize-schema=always")
				.contains("classpath:io/github/reliablekafka/outbox/schema-postgresql.sql");
		}
	}

	@Test
	void aJdbcApplicationOnH2StartsAndDeliversAMessage() {
		deliversOneMessageCleanly("jdbc-h2", List.of());
	}

	@Test
	void aRedisApplicationStartsAndDeliversAMessage() {
		deliversOneMessageCleanly("data-redis", List.of("--spring.data.redis.url=" + TestServices.redisUrl()));
	}

	@Test
	void anActuatorApplicationStartsAndDeliversAMessage() {
		deliversOneMessageCleanly("actuator", List.of());
	}

	@Test
	void anApplicationWithEverythingStartsAndDeliversAMessage() {
		try (TestDatabase database = TestDatabase.postgres()) {
			deliversOneMessageCleanly("everything", List.of("--spring.datasource.url=" + database.url(),
					"--spring.data.redis.url=" + TestServices.redisUrl(), "--server.port=0"));
		}
	}

	/**
	 * Start an application that must refuse to start, and return its failure report (Description and Action).
	 */
	private static String refusesToStart(String module, List<String> settings) {
		List<String> args = new ArrayList<>(settings);
		args.add("--spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers());
		args.add("--smoke.topic=" + KafkaTestSupport.uniqueTopic("smoke-refused"));
		try (ChildJvm app = SmokeApplications.of(module, args.toArray(String[]::new)).start()) {
			assertThat(app.waitFor(STARTUP)).as("%s exits", module).isTrue();
			assertThat(app.exitValue()).isNotZero();
			String log = String.join("\n", app.lines());
			assertThat(log).as("a Spring Boot failure report, not a stack trace (log: %s)", app.logFile())
				.contains("APPLICATION FAILED TO START")
				.contains("Description:")
				.contains("Action:");
			String report = log.substring(log.indexOf("APPLICATION FAILED TO START"));
			System.out.println(module + " refused to start:\n" + report);
			return report;
		}
	}

	private static void deliversOneMessageCleanly(String module, List<String> settings) {
		String topic = KafkaTestSupport.newTopic("smoke-" + module, 1);
		List<String> args = new ArrayList<>(settings);
		args.add("--spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers());
		args.add("--smoke.topic=" + topic);
		try (ChildJvm app = SmokeApplications.of(module, args.toArray(String[]::new)).start()) {
			String sent = app.awaitLine("SMOKE SENT", STARTUP);
			String received = app.awaitLine("SMOKE RECEIVED", STARTUP);
			long stopping = System.nanoTime();
			int exit = app.terminate(Duration.ofSeconds(60));
			long stopMillis = (System.nanoTime() - stopping) / 1_000_000;
			List<String> problems = SmokeApplications.warningsAndErrors(app.lines());
			System.out.printf("%s: %s; %s; stopped in %d ms (exit %d); %d log lines, %d WARN/ERROR%n", module, sent,
					received, stopMillis, exit, app.lines().size(), problems.size());
			problems.forEach((line) -> System.out.println("  " + line));
			assertThat(problems).as("WARN and ERROR lines of %s (log: %s)", module, app.logFile()).isEmpty();
			assertThat(stopMillis).as("time to stop on SIGTERM, ms").isLessThan(20_000);
		}
	}

}

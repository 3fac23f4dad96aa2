package io.github.reliablekafka.smoke;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TestServices;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
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

	/**
	 * The delay tiers with their defaults, which every other test replaces with a prefix of its own: created on the
	 * first delayed send, named after the application ({@code spring.application.name=smoke}), forwarded by a group of
	 * its own, the message delivered once due, and nothing logged at WARN.
	 */
	@Test
	void aStarterOnlyApplicationDelaysAMessageThroughTopicsNamedAfterIt() throws Exception {
		String topic = KafkaTestSupport.newTopic("smoke-delayed", 1);
		try (ChildJvm app = SmokeApplications.of("starter-only", "--spring.kafka.bootstrap-servers="
				+ KafkaTestSupport.bootstrapServers(), "--smoke.topic=" + topic, "--smoke.send=false",
				"--smoke.delay=2s").start(); Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			String scheduled = app.awaitLine("SMOKE SCHEDULED", STARTUP);
			long dueAt = Long.parseLong(scheduled.substring(scheduled.lastIndexOf(' ') + 1).trim());
			String received = app.awaitLine("SMOKE RECEIVED 'delayed'", STARTUP);
			long receivedAt = System.currentTimeMillis();
			Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
			Set<String> groups = new HashSet<>();
			admin.listGroups().all().get(30, TimeUnit.SECONDS).stream().map(GroupListing::groupId).forEach(groups::add);
			System.out.printf("delayed on defaults: %s, received %d ms after its due time; delay topics %s; forwarder "
					+ "group present: %s%n", received, receivedAt - dueAt,
					topics.stream().filter((name) -> name.startsWith("rk-delay")).sorted().toList(),
					groups.contains("rk-delay-forwarder-smoke"));
			assertThat(receivedAt).as("received at or after its due time").isGreaterThanOrEqualTo(dueAt);
			assertThat(topics).contains("rk-delay-smoke-1s", "rk-delay-smoke-2h", "rk-delay-smoke-dlt")
				.doesNotContain("rk-delay-1s");
			assertThat(groups).contains("rk-delay-forwarder-smoke").doesNotContain("rk-delay-forwarder");
			stopsCleanly("starter-only delayed", app);
		}
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
				assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM rk_consumed", Long.class))
					.as("one ledger row per group: the plain listener's and the key-ordered one's")
					.isEqualTo(2);
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
			// the key-ordered listener on the same class path: the lanes, their context and their timers
			String byKey = app.awaitLine("SMOKE KEY-ORDERED RECEIVED", STARTUP);
			assertThat(byKey).as("run on a lane worker, not the consumer thread").contains("on rk-dispatch-");
			System.out.printf("%s: %s; %s; %s%n", module, sent, received, byKey);
			stopsCleanly(module, app);
		}
	}

	/** Stop an application with SIGTERM: promptly, and with no WARN or ERROR line in its whole log. */
	private static void stopsCleanly(String name, ChildJvm app) {
		long stopping = System.nanoTime();
		int exit = app.terminate(Duration.ofSeconds(60));
		long stopMillis = (System.nanoTime() - stopping) / 1_000_000;
		List<String> problems = SmokeApplications.warningsAndErrors(app.lines());
		System.out.printf("%s: stopped in %d ms (exit %d); %d log lines, %d WARN/ERROR%n", name, stopMillis, exit,
				app.lines().size(), problems.size());
		problems.forEach((line) -> System.out.println("  " + line));
		assertThat(problems).as("WARN and ERROR lines of %s (log: %s)", name, app.logFile()).isEmpty();
		assertThat(stopMillis).as("time to stop on SIGTERM, ms").isLessThan(20_000);
	}

}

package io.github.reliablekafka.smoke;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TestServices;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application whose Kafka cannot be reached (a wrong {@code spring.kafka.bootstrap-servers}) logs what is wrong
 * and keeps trying, without flooding its log: the application with every optional part (JDBC, Redis, actuator, web),
 * so every background client of the library runs. It runs for 2 minutes, alongside the other smoke tests.
 */
class LogFloodSmokeTests {

	/** A log entry of Spring Boot's default format: time, level, pid, ..., logger. */
	private static final Pattern ENTRY = Pattern
		.compile("^\\d{4}-\\d\\d-\\d\\dT\\S+\\s+(\\w+) \\d+ --- \\[[^\\]]*\\] \\[\\s*([^\\]]*)\\] (\\S+)\\s*:.*");

	private static final Duration RUN = Duration.ofMinutes(2);

	@Test
	void anUnreachableBrokerDoesNotFloodTheLog() throws Exception {
		try (TestDatabase database = TestDatabase.postgres();
				ChildJvm app = SmokeApplications.of("everything", "--spring.datasource.url=" + database.url(),
						"--spring.data.redis.url=" + TestServices.redisUrl(), "--server.port=0",
						"--spring.kafka.bootstrap-servers=127.0.0.1:" + unusedPort(), "--smoke.topic=smoke-unreachable",
						"--smoke.send=false", "--smoke.by-key=false") // one consumer: the budget counts its client's warnings
					.start()) {
			app.awaitLine("Started SmokeApplication", Duration.ofSeconds(90));
			Thread.sleep(RUN.toMillis());
			List<String> lines = app.lines();
			Map<String, Integer> byLogger = new TreeMap<>();
			int entries = 0;
			for (String line : lines) {
				Matcher entry = ENTRY.matcher(line);
				if (entry.matches()) {
					entries++;
					byLogger.merge(entry.group(1) + " " + entry.group(3), 1, Integer::sum);
				}
			}
			System.out.printf("unreachable broker for %s: %d log entries (%d lines, Kafka's multi-line configuration "
					+ "dumps included); by level and logger:%n", RUN, entries, lines.size());
			byLogger.forEach((logger, count) -> System.out.printf("  %5d %s%n", count, logger));
			assertThat(entries).as("log entries in %s with an unreachable broker (log: %s)", RUN, app.logFile())
				.isLessThan(200);
			assertThat(lines).as("the application says what is wrong")
				.anyMatch((line) -> line.contains("Durability check") && line.contains("1 failed"));
		}
	}

	private static int unusedPort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

}

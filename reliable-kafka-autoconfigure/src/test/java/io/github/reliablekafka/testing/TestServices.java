package io.github.reliablekafka.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.mariadb.MariaDBContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * Finds Redis, PostgreSQL and MariaDB for a test: the server on localhost (or the one named by
 * {@code RK_REDIS_URL}, {@code RK_POSTGRES_URL}, {@code RK_MARIADB_URL}) when it answers; otherwise a Testcontainers
 * container when a Docker engine is available; otherwise the test is skipped with a message naming the missing
 * service. With {@code CI=true} a missing service fails the test instead: nothing guaranteed is silently skipped
 * in CI.
 *
 * <p>
 * URLs: {@code RK_REDIS_URL=redis://host:6379}, {@code RK_POSTGRES_URL=jdbc:postgresql://host:5432/test?user=postgres},
 * {@code RK_MARIADB_URL=jdbc:mariadb://host:3306/test?user=root}. Each test gets its own schema, database or key
 * prefix from {@link TestDatabase} and {@link TestRedis}.
 */
public final class TestServices {

	static final String DEFAULT_POSTGRES = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

	static final String DEFAULT_MARIADB = "jdbc:mariadb://127.0.0.1:3306/test?user=root";

	static final String DEFAULT_REDIS = "redis://127.0.0.1:6379";

	private static final Map<String, Object> resolved = new ConcurrentHashMap<>();

	private TestServices() {
	}

	/**
	 * Return the base JDBC URL of a PostgreSQL server with a database the tests may create schemas in.
	 * @return the URL, user included
	 */
	public static String postgresUrl() {
		return (String) resolved.computeIfAbsent("postgres", (k) -> resolveJdbc("PostgreSQL", "RK_POSTGRES_URL",
				DEFAULT_POSTGRES, () -> {
					PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
					container.start();
					return container.getJdbcUrl() + "&user=" + container.getUsername() + "&password="
							+ container.getPassword();
				}));
	}

	/**
	 * Return the base JDBC URL of a MariaDB server where the tests may create databases.
	 * @return the URL, user included
	 */
	public static String mariadbUrl() {
		return (String) resolved.computeIfAbsent("mariadb", (k) -> resolveJdbc("MariaDB", "RK_MARIADB_URL",
				DEFAULT_MARIADB, () -> {
					MariaDBContainer container = new MariaDBContainer("mariadb:11").withUsername("root").withPassword("");
					container.start();
					return container.getJdbcUrl() + "?user=root";
				}));
	}

	/**
	 * Return the URL of a Redis server.
	 * @return {@code redis://host:port}
	 */
	public static URI redisUrl() {
		return (URI) resolved.computeIfAbsent("redis", (k) -> {
			URI url = URI.create(env("RK_REDIS_URL", DEFAULT_REDIS));
			if (redisAnswers(url.getHost(), url.getPort())) {
				return url;
			}
			return fromContainerOrMissing("Redis", url.toString(), "RK_REDIS_URL", () -> {
				GenericContainer<?> container = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
				container.start();
				return URI.create("redis://" + container.getHost() + ":" + container.getMappedPort(6379));
			});
		});
	}

	/**
	 * Return whether this run is in CI, where a missing service is a failure.
	 * @return whether {@code CI=true}
	 */
	public static boolean inCi() {
		return "true".equalsIgnoreCase(System.getenv("CI"));
	}

	/**
	 * Return whether a Docker engine answers.
	 * @return whether Testcontainers can start containers
	 */
	public static boolean dockerAvailable() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (Throwable ex) {
			return false;
		}
	}

	private static String resolveJdbc(String service, String variable, String defaultUrl, Supplier<String> container) {
		String url = env(variable, defaultUrl);
		try (Connection connection = DriverManager.getConnection(url)) {
			return url;
		}
		catch (SQLException ex) {
			return fromContainerOrMissing(service, url + " (" + ex.getMessage() + ")", variable, container);
		}
	}

	private static <T> T fromContainerOrMissing(String service, String tried, String variable, Supplier<T> container) {
		if (dockerAvailable()) {
			return container.get();
		}
		String message = service + " is not reachable at " + tried + " and no Docker engine is available; start "
				+ service + " or set " + variable;
		if (inCi()) {
			throw new IllegalStateException("CI=true and a required service is missing: " + message);
		}
		Assumptions.abort("Skipped: " + message);
		throw new AssertionError("unreachable");
	}

	private static String env(String name, String defaultValue) {
		String value = System.getenv(name);
		return (value != null && !value.isBlank()) ? value : defaultValue;
	}

	static boolean redisAnswers(String host, int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(host, port), 1_000);
			socket.setSoTimeout(1_000);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] reply = new byte[7];
			int read = in.read(reply);
			return read > 0 && new String(reply, 0, read, StandardCharsets.US_ASCII).startsWith("+PONG");
		}
		catch (IOException ex) {
			return false;
		}
	}

}

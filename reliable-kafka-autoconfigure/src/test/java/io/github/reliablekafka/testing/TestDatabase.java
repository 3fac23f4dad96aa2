package io.github.reliablekafka.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * A database of a test's own: a fresh PostgreSQL schema, a fresh MariaDB database or a fresh H2 file database,
 * dropped on {@link #close()}. Found through {@link TestServices}.
 */
public final class TestDatabase implements AutoCloseable {

	/** The kinds of database the tests run on. */
	public enum Kind {

		POSTGRESQL, MARIADB, H2

	}

	private final Kind kind;

	private final String name;

	private final String url;

	private final String adminUrl;

	private HikariDataSource dataSource;

	private TestDatabase(Kind kind, String name, String url, String adminUrl) {
		this.kind = kind;
		this.name = name;
		this.url = url;
		this.adminUrl = adminUrl;
	}

	/**
	 * Create a PostgreSQL schema for this test, and make it the connections' current schema.
	 * @return the database
	 */
	public static TestDatabase postgres() {
		String base = TestServices.postgresUrl();
		String schema = uniqueName();
		execute(base, "CREATE SCHEMA " + schema);
		return new TestDatabase(Kind.POSTGRESQL, schema, base + "&currentSchema=" + schema, base);
	}

	/**
	 * Create a MariaDB database for this test.
	 * @return the database
	 */
	public static TestDatabase mariadb() {
		String base = TestServices.mariadbUrl();
		String database = uniqueName();
		execute(base, "CREATE DATABASE " + database);
		String url = base.replaceFirst("(jdbc:mariadb://[^/]+/)[^?]*", "$1" + database);
		return new TestDatabase(Kind.MARIADB, database, url, base);
	}

	/**
	 * Create an H2 database for this test: a file database in {@code target/h2} that child processes can open too
	 * ({@code AUTO_SERVER}), so crash tests run on H2 as on the servers.
	 * @return the database
	 */
	public static TestDatabase h2() {
		String name = uniqueName();
		String path = java.nio.file.Paths.get("target", "h2", name).toAbsolutePath().toString();
		return new TestDatabase(Kind.H2, name, "jdbc:h2:file:" + path + ";AUTO_SERVER=TRUE;DB_CLOSE_DELAY=-1", path);
	}

	/**
	 * Create a database of a kind.
	 * @param kind the kind
	 * @return the database
	 */
	public static TestDatabase of(Kind kind) {
		return switch (kind) {
			case POSTGRESQL -> postgres();
			case MARIADB -> mariadb();
			case H2 -> h2();
		};
	}

	public Kind kind() {
		return this.kind;
	}

	public String url() {
		return this.url;
	}

	/**
	 * Return a pooled data source on this database, created on first use and closed with it.
	 * @return the data source
	 */
	public synchronized DataSource dataSource() {
		if (this.dataSource == null) {
			HikariConfig config = new HikariConfig();
			config.setJdbcUrl(this.url);
			config.setMaximumPoolSize(16);
			config.setPoolName("rk-test-" + this.name);
			this.dataSource = new HikariDataSource(config);
		}
		return this.dataSource;
	}

	@Override
	public synchronized void close() {
		if (this.dataSource != null) {
			this.dataSource.close();
		}
		switch (this.kind) {
			case POSTGRESQL -> execute(this.adminUrl, "DROP SCHEMA IF EXISTS " + this.name + " CASCADE");
			case MARIADB -> execute(this.adminUrl, "DROP DATABASE IF EXISTS " + this.name);
			case H2 -> {
				execute(this.url, "SHUTDOWN");
				org.springframework.util.FileSystemUtils.deleteRecursively(java.nio.file.Paths.get(this.adminUrl + ".mv.db").toFile());
				org.springframework.util.FileSystemUtils.deleteRecursively(java.nio.file.Paths.get(this.adminUrl + ".lock.db").toFile());
			}
		}
	}

	@Override
	public String toString() {
		return this.kind + ":" + this.name;
	}

	private static String uniqueName() {
		return "rk_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
	}

	private static void execute(String url, String sql) {
		try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("Cannot run '" + sql + "' on " + url, ex);
		}
	}

}

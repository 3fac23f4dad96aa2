package io.github.reliablekafka.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.DatabaseMetaData;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.sql.DataSource;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.github.reliablekafka.support.SchemaInitialization;
import org.springframework.boot.jdbc.DatabaseDriver;
import org.springframework.boot.jdbc.init.DataSourceScriptDatabaseInitializer;
import org.springframework.boot.jdbc.init.PlatformPlaceholderDatabaseDriverResolver;
import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.boot.sql.init.DatabaseInitializationSettings;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.Resource;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.util.StreamUtils;

/**
 * Makes sure one of the library's tables exists before anything uses it: the application never starts with a
 * table its first send or record would miss. At startup it reads the table (no lock that waits for other
 * transactions); when that fails and the {@link SchemaInitialization} allows it, it creates the table from the
 * script for the database ({@code schema-postgresql.sql}, {@code schema-mysql.sql} also for MariaDB,
 * {@code schema-h2.sql}, which only create what does not exist and name the table {@code ${table}}); when the table
 * is still missing it stops the application with a {@link ReliableKafkaConfigurationException} naming the table,
 * the property that creates it and the script's class path location for Flyway or Liquibase.
 *
 * <p>
 * It is a Spring Boot database initializer, so beans that depend on database initialization wait for it.
 */
public class TableSchemaInitializer extends DataSourceScriptDatabaseInitializer {

	private final DataSource dataSource;

	private final LibraryTable table;

	private final SchemaInitialization mode;

	/**
	 * Create an initializer.
	 * @param dataSource the data source
	 * @param table the table, its script and the properties that govern it
	 * @param mode when to create the table
	 */
	public TableSchemaInitializer(DataSource dataSource, LibraryTable table, SchemaInitialization mode) {
		super(dataSource, settings(dataSource, table, mode));
		this.dataSource = dataSource;
		this.table = table;
		this.mode = mode;
	}

	private static DatabaseInitializationSettings settings(DataSource dataSource, LibraryTable table,
			SchemaInitialization mode) {
		DatabaseInitializationSettings settings = new DatabaseInitializationSettings();
		if (mode != SchemaInitialization.NEVER) {
			settings.setSchemaLocations(List.of(scriptLocation(dataSource, table)));
		}
		settings.setMode(switch (mode) {
			case ALWAYS -> DatabaseInitializationMode.ALWAYS;
			case EMBEDDED -> DatabaseInitializationMode.EMBEDDED;
			case NEVER -> DatabaseInitializationMode.NEVER;
		});
		settings.setContinueOnError(false);
		return settings;
	}

	/**
	 * Read the table; create it when it is missing and the mode allows; stop the application when it is still
	 * missing.
	 * @return whether the table was created
	 * @throws ReliableKafkaConfigurationException when the table is missing, cannot be created, or the database is
	 * not one the library has a script for
	 */
	@Override
	public boolean initializeDatabase() {
		String missing = missingBecause();
		if (missing == null) {
			return false;
		}
		String location = scriptLocation(this.dataSource, this.table);
		if (this.mode != SchemaInitialization.NEVER && !new DefaultResourceLoader().getResource(location).exists()) {
			throw new ReliableKafkaConfigurationException(
					"reliable-kafka has no " + this.table.what() + " script for this database (" + product()
							+ "): it supports PostgreSQL, MySQL, MariaDB and H2.",
					capitalized(this.table.withoutIt()) + "; or create table '" + this.table.name()
							+ "' yourself, after " + this.table.scriptFor("postgresql") + ", and set "
							+ this.table.property() + "=never.");
		}
		boolean created;
		try {
			created = super.initializeDatabase();
		}
		catch (RuntimeException ex) {
			if (missingBecause() == null) {
				return false; // another instance created it at the same time
			}
			throw new ReliableKafkaConfigurationException("Could not create the " + this.table.what() + " '"
					+ this.table.name() + "' in " + product() + ": " + rootMessage(ex),
					"Let the application's database user create tables, or create it yourself (with Flyway or "
							+ "Liquibase, say) from " + location + " (replace ${table} with " + this.table.name()
							+ ") and set " + this.table.property() + "=never.",
					ex);
		}
		missing = missingBecause();
		if (missing != null) {
			throw new ReliableKafkaConfigurationException(
					"The " + this.table.what() + " '" + this.table.name() + "' does not exist in " + product() + " ("
							+ missing + ") and " + this.table.property() + "="
							+ this.mode.name().toLowerCase(Locale.ROOT) + " does not create it"
							+ ((this.mode == SchemaInitialization.EMBEDDED) ? " on a database that is not embedded."
									: "."),
					"Set " + this.table.property() + "=always to create it at startup; or create it with Flyway or "
							+ "Liquibase from " + location + " (replace ${table} with " + this.table.name() + "); or "
							+ this.table.withoutIt() + ".");
		}
		return created;
	}

	/** Why the table cannot be read with the columns the library uses; {@code null} when it can. */
	private String missingBecause() {
		try {
			new JdbcTemplate(this.dataSource).queryForList("SELECT " + this.table.columns() + " FROM "
					+ this.table.name() + " WHERE 1 = 0");
			return null;
		}
		catch (BadSqlGrammarException ex) {
			return rootMessage(ex);
		}
		catch (DataAccessException ex) {
			throw new ReliableKafkaConfigurationException("Could not read the " + this.table.what() + " '"
					+ this.table.name() + "' at startup: " + rootMessage(ex),
					"Check spring.datasource.* and that the database is up.", ex);
		}
	}

	@Override
	protected void runScripts(Scripts scripts) {
		List<Resource> resolved = new ArrayList<>();
		for (Resource script : scripts) {
			try {
				String sql = StreamUtils.copyToString(script.getInputStream(), StandardCharsets.UTF_8);
				resolved.add(new ByteArrayResource(
						sql.replace("${table}", this.table.name()).getBytes(StandardCharsets.UTF_8),
						script.getDescription()));
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Cannot read schema script " + script, ex);
			}
		}
		super.runScripts(new Scripts(resolved).continueOnError(scripts.isContinueOnError())
			.separator(scripts.getSeparator())
			.encoding(scripts.getEncoding()));
	}

	/** The script of this database. */
	private static String scriptLocation(DataSource dataSource, LibraryTable table) {
		return new PlatformPlaceholderDatabaseDriverResolver().withDriverPlatform(DatabaseDriver.MARIADB, "mysql")
			.resolveAll(dataSource, table.schemaLocation())
			.get(0);
	}

	private String product() {
		try {
			return JdbcUtils.extractDatabaseMetaData(this.dataSource, DatabaseMetaData::getDatabaseProductName);
		}
		catch (Exception ex) {
			return "the database";
		}
	}

	private static String capitalized(String text) {
		return text.substring(0, 1).toUpperCase(Locale.ROOT) + text.substring(1);
	}

	private static String rootMessage(Throwable ex) {
		return String.valueOf(NestedExceptionUtils.getMostSpecificCause(ex).getMessage()).strip();
	}

}

package io.github.reliablekafka.outbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import org.springframework.boot.jdbc.DatabaseDriver;
import org.springframework.boot.jdbc.init.DataSourceScriptDatabaseInitializer;
import org.springframework.boot.jdbc.init.PlatformPlaceholderDatabaseDriverResolver;
import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.boot.sql.init.DatabaseInitializationSettings;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.Resource;
import org.springframework.util.StreamUtils;

/**
 * Creates the outbox table, following Spring Boot's convention: {@code embedded} (the default) only for an embedded
 * database, {@code always}, or {@code never} (the schema is yours, for example through Flyway). Scripts ship for
 * PostgreSQL, MySQL/MariaDB and H2 and only create what does not exist yet.
 */
public class OutboxSchemaInitializer extends DataSourceScriptDatabaseInitializer {

	static final String SCHEMA_LOCATION = "classpath:io/github/reliablekafka/outbox/schema-@@platform@@.sql";

	private final String table;

	/**
	 * Create an initializer.
	 * @param dataSource the data source
	 * @param table the table name
	 * @param mode when to create the table
	 */
	public OutboxSchemaInitializer(DataSource dataSource, String table, DatabaseInitializationMode mode) {
		super(dataSource, settings(dataSource, mode));
		this.table = table;
	}

	private static DatabaseInitializationSettings settings(DataSource dataSource, DatabaseInitializationMode mode) {
		DatabaseInitializationSettings settings = new DatabaseInitializationSettings();
		settings.setMode(mode);
		settings.setContinueOnError(false);
		if (mode != DatabaseInitializationMode.NEVER) {
			settings.setSchemaLocations(new PlatformPlaceholderDatabaseDriverResolver()
				.withDriverPlatform(DatabaseDriver.MARIADB, "mysql")
				.resolveAll(dataSource, SCHEMA_LOCATION));
		}
		return settings;
	}

	@Override
	protected void runScripts(Scripts scripts) {
		List<Resource> resolved = new ArrayList<>();
		for (Resource script : scripts) {
			try {
				String sql = StreamUtils.copyToString(script.getInputStream(), StandardCharsets.UTF_8);
				resolved.add(new ByteArrayResource(sql.replace("${table}", this.table).getBytes(StandardCharsets.UTF_8),
						script.getDescription()));
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Cannot read outbox schema " + script, ex);
			}
		}
		super.runScripts(new Scripts(resolved).continueOnError(scripts.isContinueOnError())
			.separator(scripts.getSeparator())
			.encoding(scripts.getEncoding()));
	}

}

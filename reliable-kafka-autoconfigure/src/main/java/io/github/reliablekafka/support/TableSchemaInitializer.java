package io.github.reliablekafka.support;

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
 * Creates one of the library's tables, following Spring Boot's convention: {@code embedded} (the default) only for an
 * embedded database, {@code always}, or {@code never} (the schema is yours, for example through Flyway). Scripts
 * ship per database ({@code schema-postgresql.sql}, {@code schema-mysql.sql} also used for MariaDB,
 * {@code schema-h2.sql}), only create what does not exist yet, and name the table {@code ${table}}.
 */
public class TableSchemaInitializer extends DataSourceScriptDatabaseInitializer {

	private final String table;

	/**
	 * Create an initializer.
	 * @param dataSource the data source
	 * @param schemaLocation where the scripts are, with {@code @@platform@@} for the database, for example
	 * {@code classpath:io/github/reliablekafka/outbox/schema-@@platform@@.sql}
	 * @param table the table name
	 * @param mode when to create the table
	 */
	public TableSchemaInitializer(DataSource dataSource, String schemaLocation, String table,
			DatabaseInitializationMode mode) {
		super(dataSource, settings(dataSource, schemaLocation, mode));
		this.table = table;
	}

	private static DatabaseInitializationSettings settings(DataSource dataSource, String schemaLocation,
			DatabaseInitializationMode mode) {
		DatabaseInitializationSettings settings = new DatabaseInitializationSettings();
		settings.setMode(mode);
		settings.setContinueOnError(false);
		if (mode != DatabaseInitializationMode.NEVER) {
			settings.setSchemaLocations(new PlatformPlaceholderDatabaseDriverResolver()
				.withDriverPlatform(DatabaseDriver.MARIADB, "mysql")
				.resolveAll(dataSource, schemaLocation));
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
				throw new UncheckedIOException("Cannot read schema script " + script, ex);
			}
		}
		super.runScripts(new Scripts(resolved).continueOnError(scripts.isContinueOnError())
			.separator(scripts.getSeparator())
			.encoding(scripts.getEncoding()));
	}

}

package io.github.reliablekafka.internal;

import java.util.regex.Pattern;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;

/**
 * One of the library's tables, as its schema initializer and its startup errors name it.
 *
 * @param name the table name, optionally schema-qualified
 * @param what what it is, for messages ("outbox table")
 * @param schemaLocation where its scripts are, with {@code @@platform@@} for the database
 * @param columns the columns the library reads and writes, comma-separated
 * @param property the property that says when the table is created
 * @param withoutIt how to run without the table, a clause for messages ("set ... if ...")
 */
public record LibraryTable(String name, String what, String schemaLocation, String columns, String property,
		String withoutIt) {

	private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

	/**
	 * Return the script of one database.
	 * @param platform {@code postgresql}, {@code mysql} (MySQL and MariaDB) or {@code h2}
	 * @return its class path location
	 */
	public String scriptFor(String platform) {
		return this.schemaLocation.replace("@@platform@@", platform);
	}

	/**
	 * Refuse a table name that is not a plain, optionally schema-qualified SQL name: it is written into statements.
	 * @param table the name
	 * @param property the property that set it
	 * @return the name
	 * @throws ReliableKafkaConfigurationException when it is not a plain name
	 */
	public static String checkName(String table, String property) {
		if (table == null || !TABLE_NAME.matcher(table).matches()) {
			throw new ReliableKafkaConfigurationException(property + "='" + table + "' is not a table name the "
					+ "library can use: it is written into SQL statements as it is.",
					"Set " + property + " to a plain SQL name, optionally schema-qualified (letters, digits and "
							+ "underscores, e.g. rk_outbox or app.rk_outbox).");
		}
		return table;
	}

}

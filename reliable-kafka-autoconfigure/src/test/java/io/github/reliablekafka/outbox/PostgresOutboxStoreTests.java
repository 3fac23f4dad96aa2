package io.github.reliablekafka.outbox;

import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.reliablekafka.testing.TestDatabase;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

class PostgresOutboxStoreTests extends AbstractOutboxStoreTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

	/**
	 * The admission keeps one plan for every execution. Made while the table was empty, that plan must still read
	 * only each admitted row and its key's line once the table holds a large backlog of other keys: a NOT EXISTS and
	 * a join sorted by id, planned on an empty table, read the whole backlog once per admitted row.
	 */
	@Test
	void theAdmissionsOnePlanMadeOnAnEmptyTableReadsOnlyTheAdmittedRowsAndTheirKeysOnALargeTable() {
		ConfigurableApplicationContext context = start();
		context.getBean(TransactionalOutbox.class).relay().stop();
		String sql = positional(context.getBean(TransactionalOutbox.class).store().dialect().admissionSql("rk_outbox", OutboxClaims.blocking(false)));
		String execute = "EXECUTE admission('{" + ids() + "}', 'rk-me-w', 5, 'rk-me')";
		List<String> plan = new JdbcTemplate(database().dataSource()).execute((ConnectionCallback<List<String>>) (con) -> {
			try (Statement statement = con.createStatement()) {
				statement.execute("SET enable_seqscan = off");
				statement.execute("SET enable_bitmapscan = off");
				statement.execute("SET plan_cache_mode = force_generic_plan");
				statement.execute("PREPARE admission(varchar[], varchar, bigint, varchar) AS " + sql);
				statement.execute("EXPLAIN " + execute); // the plan is made now, on an empty table
				statement.execute("INSERT INTO rk_outbox (message_id, topic, message_key, key_hash, payload, created_at,"
						+ " not_before, next_attempt_at, status, lease_owner, lease_until) SELECT 'backlog-' || g, 't',"
						+ " 'b' || (g % 500), (g % 500) * 7919, NULL, 1, 1, 1, 'NEW', 'rk-other', 99999999999999"
						+ " FROM generate_series(1, 20000) g");
				statement.execute("INSERT INTO rk_outbox (message_id, topic, message_key, key_hash, payload, created_at,"
						+ " not_before, next_attempt_at, status, lease_owner, lease_until) SELECT 'mine-' || g, 't',"
						+ " 'm' || g, -g, NULL, 1, 1, 1, 'NEW', 'rk-me-w', 99999999999999 FROM generate_series(1, 40) g");
				List<String> lines = new ArrayList<>();
				try (ResultSet rs = statement.executeQuery("EXPLAIN (ANALYZE, BUFFERS) " + execute)) {
					while (rs.next()) {
						lines.add(rs.getString(1));
					}
				}
				statement.execute("DEALLOCATE admission");
				return lines;
			}
		});
		String text = String.join("\n", plan);
		assertThat(text).as("every admitted row found").contains("rows=40 loops=1");
		assertThat(text).doesNotContain("Seq Scan").doesNotContain("Hash").doesNotContain("Merge");
		Matcher buffers = Pattern.compile("Buffers: shared hit=(\\d+)").matcher(text);
		assertThat(buffers.find()).isTrue();
		System.out.printf("admission of 40 rows on a 20,000-row table, plan made on an empty table: %s pages%n",
				buffers.group(1));
		// 40 rows, each found by its message id and its key probed twice: a few pages each; the backlog has ~20,000
		assertThat(Integer.parseInt(buffers.group(1))).as("pages read, plan:%n%s", text).isLessThan(1_000);
	}

	private static String ids() {
		List<String> ids = new ArrayList<>();
		for (int i = 1; i <= 40; i++) {
			ids.add("mine-" + i);
		}
		return String.join(",", ids);
	}

	/** The statement with its named parameters as PREPARE's positional ones, in PREPARE's order. */
	private static String positional(String sql) {
		return sql.replace(":ids", "$1").replace(":writer", "$2").replace(":now", "$3").replace(":owner", "$4");
	}

}

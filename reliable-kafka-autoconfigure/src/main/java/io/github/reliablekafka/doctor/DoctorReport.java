package io.github.reliablekafka.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the durability doctor found: one row per check.
 *
 * @param checks the checks, in the order they were made
 * @param brokers how many brokers the cluster has, or {@code -1} when it could not be reached
 * @param developmentCluster whether the cluster has fewer brokers than a replicated topic needs (replication checks
 * are then reported, not failed)
 */
public record DoctorReport(List<Check> checks, int brokers, boolean developmentCluster) {

	/** How a check ended. */
	public enum Verdict {

		/** As it should be. */
		OK,

		/** Risky, or not verifiable; never stops the application. */
		WARN,

		/** Breaks the no-loss checklist; stops the application in {@code fail} mode. */
		FAIL,

		/** Would fail on a production cluster, accepted on a development cluster. */
		DEV

	}

	/**
	 * One check.
	 *
	 * @param check what is checked, e.g. {@code producer acks}
	 * @param subject where: {@code producer}, {@code consumer}, a topic, {@code cluster}
	 * @param expected what it should be
	 * @param actual what it is
	 * @param verdict how it ended
	 * @param fix what to change when it did not pass (kept empty when it passed)
	 */
	public record Check(String check, String subject, String expected, String actual, Verdict verdict, String fix) {

		public Check {
			fix = (verdict == Verdict.OK) ? "" : fix;
		}

	}

	/**
	 * Return the checks with a verdict.
	 * @param verdict the verdict
	 * @return those checks
	 */
	public List<Check> with(Verdict verdict) {
		return this.checks.stream().filter((check) -> check.verdict() == verdict).toList();
	}

	/**
	 * Render the report as a text table, with the development-cluster note and the fixes of the checks that did not
	 * pass.
	 * @return the table
	 */
	public String render() {
		List<String[]> rows = new ArrayList<>();
		rows.add(new String[] { "check", "subject", "expected", "actual", "verdict" });
		// topics with the same outcome of a check share one row
		Map<List<String>, List<String>> subjects = new LinkedHashMap<>();
		for (Check check : this.checks) {
			subjects.computeIfAbsent(List.of(check.check(), check.expected(), check.actual(), check.verdict().name()),
					(key) -> new ArrayList<>()).add(check.subject());
		}
		subjects.forEach((key, names) -> rows.add(new String[] { key.get(0), subjects(names), key.get(1), key.get(2),
				key.get(3) }));
		int[] widths = new int[5];
		for (String[] row : rows) {
			for (int i = 0; i < row.length; i++) {
				widths[i] = Math.max(widths[i], row[i].length());
			}
		}
		StringBuilder table = new StringBuilder();
		for (int r = 0; r < rows.size(); r++) {
			String[] row = rows.get(r);
			for (int i = 0; i < row.length; i++) {
				table.append(i == 0 ? "  " : " | ").append(String.format("%-" + widths[i] + "s", row[i]));
			}
			table.append('\n');
			if (r == 0) {
				for (int i = 0; i < widths.length; i++) {
					table.append(i == 0 ? "  " : "-+-").append("-".repeat(widths[i]));
				}
				table.append('\n');
			}
		}
		if (this.developmentCluster) {
			table.append("  Development cluster (").append(this.brokers)
				.append(this.brokers == 1 ? " broker" : " brokers")
				.append("): replication checks are shown as DEV, not failed. A production cluster needs at least 3 "
						+ "brokers, replication.factor >= 3 and min.insync.replicas >= 2.\n");
		}
		for (Check check : this.checks) {
			if ((check.verdict() == Verdict.FAIL || check.verdict() == Verdict.WARN) && !check.fix().isEmpty()) {
				table.append("  ").append(check.verdict()).append(' ').append(check.check()).append(" (")
					.append(check.subject()).append("): ").append(check.fix()).append('\n');
			}
		}
		return table.toString();
	}

	private static String subjects(List<String> names) {
		if (names.size() <= 3) {
			return String.join(", ", names);
		}
		return names.get(0) + ", " + names.get(1) + " and " + (names.size() - 2) + " more";
	}

}

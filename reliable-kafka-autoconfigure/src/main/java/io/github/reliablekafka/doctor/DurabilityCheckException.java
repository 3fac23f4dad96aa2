package io.github.reliablekafka.doctor;

import java.util.stream.Collectors;

import io.github.reliablekafka.doctor.DoctorReport.Verdict;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;

/**
 * Stops the application when the durability doctor, in {@code fail} mode, found checks that failed. The message
 * lists each of them with its fix.
 */
public class DurabilityCheckException extends ReliableKafkaConfigurationException {

	private final transient DoctorReport report;

	/**
	 * Create the exception.
	 * @param report the report with at least one failed check
	 */
	public DurabilityCheckException(DoctorReport report) {
		super(description(report), action(report));
		this.report = report;
	}

	/**
	 * Return the report.
	 * @return the report
	 */
	public DoctorReport getReport() {
		return this.report;
	}

	private static String description(DoctorReport report) {
		return report.with(Verdict.FAIL).size() + " durability check(s) failed (reliable.kafka.doctor.mode=fail):\n"
				+ report.with(Verdict.FAIL)
					.stream()
					.map((check) -> "  - " + check.check() + " (" + check.subject() + "): expected " + check.expected()
							+ ", is " + check.actual() + ". Fix: " + check.fix())
					.collect(Collectors.joining("\n"));
	}

	private static String action(DoctorReport report) {
		return "Fix each check above, or set reliable.kafka.doctor.mode=warn to start anyway.";
	}

}

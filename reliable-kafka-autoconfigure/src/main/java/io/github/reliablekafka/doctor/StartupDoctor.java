package io.github.reliablekafka.doctor;

import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import io.github.reliablekafka.doctor.DoctorReport.Verdict;
import io.github.reliablekafka.internal.SharedAdmin;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * Runs the durability doctor once at startup, before the listener containers and the delay forwarder start, and
 * prints its report: at INFO when every check passed, at WARN otherwise. In {@link DoctorMode#FAIL} a failed check
 * stops the application with a {@link DurabilityCheckException}.
 */
public final class StartupDoctor implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(StartupDoctor.class);

	private final DurabilityDoctor doctor;

	private final DoctorMode mode;

	private volatile @Nullable DoctorReport report;

	private volatile boolean running;

	/**
	 * Create the startup check.
	 * @param admin the admin client to ask the cluster with
	 * @param producerConfig the effective producer settings, or {@code null} when the application does not produce
	 * @param consumerConfig the effective consumer settings, or {@code null} when it does not consume
	 * @param topics the topics the application produces to or listens on
	 * @param listenerRetryBudget how long retrying one record can take in all, or {@code null}
	 * @param timeout how long to wait for the cluster's answers
	 * @param mode what to do with the findings
	 */
	public StartupDoctor(SharedAdmin admin, @Nullable Map<String, Object> producerConfig,
			@Nullable Map<String, Object> consumerConfig, Supplier<Collection<String>> topics,
			@Nullable Duration listenerRetryBudget, Duration timeout, DoctorMode mode) {
		this(new DurabilityDoctor(admin, producerConfig, consumerConfig, topics, listenerRetryBudget, timeout), mode);
	}

	/**
	 * Create the startup check of an application with share-group listeners too.
	 * @param admin the admin client to ask the cluster with
	 * @param producerConfig the effective producer settings, or {@code null} when the application does not produce
	 * @param consumerConfig the effective consumer settings, or {@code null} when it does not consume
	 * @param topics the topics the application produces to or listens on
	 * @param listenerRetryBudget how long retrying one record can take in all, or {@code null}
	 * @param shareGroups the share groups of its share-group listeners
	 * @param listenerMaxAttempts the attempts per record of reliable listeners ({@code retry.max-attempts})
	 * @param timeout how long to wait for the cluster's answers
	 * @param mode what to do with the findings
	 */
	public StartupDoctor(SharedAdmin admin, @Nullable Map<String, Object> producerConfig,
			@Nullable Map<String, Object> consumerConfig, Supplier<Collection<String>> topics,
			@Nullable Duration listenerRetryBudget, Supplier<Collection<String>> shareGroups, int listenerMaxAttempts,
			Duration timeout, DoctorMode mode) {
		this(new DurabilityDoctor(admin, producerConfig, consumerConfig, topics, listenerRetryBudget, timeout)
			.withShareGroups(shareGroups, listenerMaxAttempts), mode);
	}

	StartupDoctor(DurabilityDoctor doctor, DoctorMode mode) {
		this.doctor = doctor;
		this.mode = mode;
	}

	/**
	 * Return the report of the startup check.
	 * @return the report, or {@code null} in {@code off} mode
	 */
	public @Nullable DoctorReport report() {
		return this.report;
	}

	/**
	 * Run the checks again (the report is replaced) without failing.
	 * @return the new report
	 */
	public DoctorReport recheck() {
		DoctorReport fresh = this.doctor.examine();
		this.report = fresh;
		return fresh;
	}

	/**
	 * Return the mode.
	 * @return the mode
	 */
	public DoctorMode mode() {
		return this.mode;
	}

	@Override
	public void start() {
		this.running = true;
		if (this.mode == DoctorMode.OFF) {
			return;
		}
		DoctorReport found = recheck();
		boolean failed = !found.with(Verdict.FAIL).isEmpty();
		if (failed || !found.with(Verdict.WARN).isEmpty()) {
			logger.warn("Durability check (reliable.kafka.doctor.mode={}): {} failed, {} warnings\n{}",
					this.mode.name().toLowerCase(Locale.ROOT), found.with(Verdict.FAIL).size(),
					found.with(Verdict.WARN).size(), found.render());
		}
		else {
			logger.info("Durability check: every check passed{}\n{}",
					found.developmentCluster() ? " (development cluster)" : "", found.render());
		}
		if (failed && this.mode == DoctorMode.FAIL) {
			throw new DurabilityCheckException(found);
		}
	}

	@Override
	public void stop() {
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		// before the listener containers (Integer.MAX_VALUE - 100) and the delay forwarder
		return Integer.MAX_VALUE - 1000;
	}

}

package io.github.reliablekafka.autoconfigure.doctor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.doctor.DoctorMode;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the durability doctor, which checks the no-loss checklist at startup.
 */
@ConfigurationProperties("reliable.kafka.doctor")
public class ReliableKafkaDoctorProperties {

	/**
	 * What the startup check does: warn (print the report, failed checks at WARN), fail (stop the application when a
	 * check failed, listing each with its fix) or off.
	 */
	private DoctorMode mode = DoctorMode.WARN;

	/**
	 * Topics the application produces to, checked with the topics its listeners consume.
	 */
	private List<String> topics = new ArrayList<>();

	/**
	 * How long the check waits for the cluster's answers.
	 */
	private Duration timeout = Duration.ofSeconds(10);

	public DoctorMode getMode() {
		return this.mode;
	}

	public void setMode(DoctorMode mode) {
		this.mode = mode;
	}

	public List<String> getTopics() {
		return this.topics;
	}

	public void setTopics(List<String> topics) {
		this.topics = topics;
	}

	public Duration getTimeout() {
		return this.timeout;
	}

	public void setTimeout(Duration timeout) {
		this.timeout = timeout;
	}

}

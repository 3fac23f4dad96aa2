package io.github.reliablekafka.doctor;

/**
 * What the durability doctor does at startup.
 */
public enum DoctorMode {

	/** Print the report; failed checks are logged at WARN. */
	WARN,

	/** Print the report and stop the application when a check failed. */
	FAIL,

	/** Check nothing. */
	OFF

}

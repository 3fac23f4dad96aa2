package io.github.reliablekafka.smoke;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.github.reliablekafka.testing.ChildJvm;

/**
 * Starts the smoke applications: {@code SmokeApplication} in a child JVM on the class path Maven resolved for one
 * application module ({@code starter-only}, {@code jdbc-postgresql}, ...), nothing of the test's own.
 */
final class SmokeApplications {

	/** The application's main class, on its own class path only. */
	private static final String MAIN_CLASS = "io.github.reliablekafka.smoke.SmokeApplication";

	/** A log line of Spring Boot's default format at WARN or ERROR. */
	private static final Pattern WARN_OR_ERROR = Pattern.compile("^\\S+\\s+(WARN|ERROR)\\b.*");

	private SmokeApplications() {
	}

	/**
	 * Describe the smoke application of a module.
	 * @param module the application module's directory name
	 * @param args Spring Boot command-line arguments ({@code --name=value})
	 * @return the child JVM builder
	 */
	static ChildJvm.Builder of(String module, String... args) {
		return ChildJvm.of(MAIN_CLASS).name("smoke-" + module).classPath(classPath(module)).args(args);
	}

	/**
	 * Return the class path Maven resolved for an application module (runtime scope).
	 * @param module the module's directory name
	 * @return the class path
	 */
	static String classPath(String module) {
		Path file = Paths.get(System.getProperty("smoke.applications", ".."), module, "target",
				"runtime-class-path.txt");
		try {
			return Files.readString(file, StandardCharsets.UTF_8).trim();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("No class path for " + module + " at " + file
					+ ": build the smoke-tests modules with Maven first", ex);
		}
	}

	/**
	 * Return the lines of a log that are WARN or ERROR entries, with the lines that follow each (a stack trace).
	 * @param lines the log
	 * @return the entries
	 */
	static List<String> warningsAndErrors(List<String> lines) {
		List<String> found = new ArrayList<>();
		for (String line : lines) {
			if (WARN_OR_ERROR.matcher(line).matches()) {
				found.add(line);
			}
		}
		return found;
	}

}

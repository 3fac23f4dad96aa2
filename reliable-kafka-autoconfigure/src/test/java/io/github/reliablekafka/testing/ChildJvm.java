package io.github.reliablekafka.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Starts a class's {@code main} in a child JVM on the test's own class path, so a test can SIGKILL, SIGTERM and
 * restart a real process: a producer, a consumer application or a Kafka broker. Output goes to
 * {@code target/child-logs/<name>-<n>.log} and, unless turned off, is kept in memory for {@link #awaitLine}.
 */
public final class ChildJvm implements AutoCloseable {

	private static final AtomicInteger SEQUENCE = new AtomicInteger();

	private final String name;

	private final Process process;

	private final Path logFile;

	private final List<String> lines = new CopyOnWriteArrayList<>();

	private final Thread pump;

	private ChildJvm(String name, Process process, Path logFile, boolean keepLines) {
		this.name = name;
		this.process = process;
		this.logFile = logFile;
		this.pump = new Thread(() -> pump(keepLines), "child-output-" + name);
		this.pump.setDaemon(true);
		this.pump.start();
	}

	/**
	 * Start describing a child JVM.
	 * @param mainClass the class whose {@code main} runs
	 * @return the builder
	 */
	public static Builder of(String mainClass) {
		return new Builder(mainClass);
	}

	/**
	 * Return the class path of this test JVM, as surefire reports it.
	 * @return the class path
	 */
	public static String testClassPath() {
		String surefire = System.getProperty("surefire.test.class.path");
		return (surefire != null && !surefire.isBlank()) ? surefire : System.getProperty("java.class.path");
	}

	/**
	 * Wait until the child prints a line that matches.
	 * @param match the condition
	 * @param timeout how long to wait
	 * @return the first matching line
	 * @throws IllegalStateException when the child exits or the time is up first
	 */
	public String awaitLine(Predicate<String> match, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		int seen = 0;
		while (System.nanoTime() < deadline) {
			List<String> snapshot = this.lines;
			for (int i = seen; i < snapshot.size(); i++) {
				if (match.test(snapshot.get(i))) {
					return snapshot.get(i);
				}
			}
			seen = snapshot.size();
			if (!this.process.isAlive() && !this.pump.isAlive()) {
				throw new IllegalStateException(this.name + " exited with " + this.process.exitValue()
						+ " before printing the awaited line; see " + this.logFile);
			}
			sleep(20);
		}
		throw new IllegalStateException(this.name + " did not print the awaited line within " + timeout + "; see "
				+ this.logFile);
	}

	/**
	 * Wait until the child prints a line containing a text.
	 * @param text the text
	 * @param timeout how long to wait
	 * @return the line
	 */
	public String awaitLine(String text, Duration timeout) {
		return awaitLine((line) -> line.contains(text), timeout);
	}

	/**
	 * Return the lines printed so far.
	 * @return the lines, a snapshot
	 */
	public List<String> lines() {
		return List.copyOf(this.lines);
	}

	/**
	 * Kill the child with SIGKILL: no shutdown hook, no flush, no goodbye.
	 */
	public void kill() {
		this.process.destroyForcibly();
		waitFor(Duration.ofSeconds(30));
	}

	/**
	 * Ask the child to stop with SIGTERM, running its shutdown hooks.
	 * @param timeout how long to wait for it to exit
	 * @return its exit code
	 */
	public int terminate(Duration timeout) {
		this.process.destroy();
		if (!waitFor(timeout)) {
			throw new IllegalStateException(this.name + " did not exit within " + timeout + " of SIGTERM");
		}
		return this.process.exitValue();
	}

	/**
	 * Wait for the child to exit.
	 * @param timeout how long to wait
	 * @return whether it exited
	 */
	public boolean waitFor(Duration timeout) {
		try {
			boolean exited = this.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
			if (exited) {
				// the lines a test reads after the child exited must be all of them: the pump ends at the end of the
				// file, quickly unless the machine is starved (a cap of 2 s could leave lines unread then)
				this.pump.join(30_000);
			}
			return exited;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/**
	 * Write the child's thread dump ({@code jcmd <pid> Thread.print}) to a file next to its log, for a test that
	 * finds the child stuck.
	 * @return the file, or a sentence saying why there is none
	 */
	public String dumpThreads() {
		Path dump = this.logFile.resolveSibling(this.logFile.getFileName() + ".threads");
		Path jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd");
		try {
			Process process = new ProcessBuilder(jcmd.toString(), String.valueOf(pid()), "Thread.print")
				.redirectErrorStream(true)
				.redirectOutput(dump.toFile())
				.start();
			return process.waitFor(30, TimeUnit.SECONDS) ? dump.toString() : "no thread dump: jcmd did not finish";
		}
		catch (IOException ex) {
			return "no thread dump: " + ex.getMessage();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return "no thread dump: interrupted";
		}
	}

	public boolean isAlive() {
		return this.process.isAlive();
	}

	public int exitValue() {
		return this.process.exitValue();
	}

	public long pid() {
		return this.process.pid();
	}

	public Path logFile() {
		return this.logFile;
	}

	public String name() {
		return this.name;
	}

	@Override
	public void close() {
		if (this.process.isAlive()) {
			kill();
		}
	}

	/**
	 * Follow the log file the child writes to. The child's output goes to a file rather than a pipe: a pipe read
	 * while the process exits loses its last lines ("Stream closed" in the JDK's process reaper).
	 */
	private void pump(boolean keepLines) {
		try (InputStream in = Files.newInputStream(this.logFile)) {
			ByteArrayOutputStream line = new ByteArrayOutputStream();
			byte[] buffer = new byte[8192];
			while (true) {
				boolean exited = !this.process.isAlive();
				int read = in.read(buffer);
				if (read < 0) {
					if (exited) {
						break;
					}
					Thread.sleep(10);
					continue;
				}
				for (int i = 0; i < read; i++) {
					if (buffer[i] == '\n') {
						if (keepLines) {
							this.lines.add(line.toString(StandardCharsets.UTF_8).stripTrailing());
						}
						line.reset();
					}
					else {
						line.write(buffer[i]);
					}
				}
			}
			if (keepLines && line.size() > 0) {
				this.lines.add(line.toString(StandardCharsets.UTF_8));
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * Describes a child JVM to start.
	 */
	public static final class Builder {

		private final String mainClass;

		private String name;

		private final List<String> args = new ArrayList<>();

		private final List<String> jvmArgs = new ArrayList<>(List.of("-Xmx256m", "-XX:+UseSerialGC",
				"-XX:TieredStopAtLevel=1", "-Xshare:auto"));

		private final Map<String, String> systemProperties = new LinkedHashMap<>();

		private final Map<String, String> environment = new LinkedHashMap<>();

		private boolean keepLines = true;

		private String classPath = testClassPath();

		private Builder(String mainClass) {
			this.mainClass = mainClass;
			this.name = mainClass.substring(mainClass.lastIndexOf('.') + 1);
		}

		public Builder name(String name) {
			this.name = name;
			return this;
		}

		public Builder args(String... args) {
			this.args.addAll(List.of(args));
			return this;
		}

		public Builder args(List<String> args) {
			this.args.addAll(args);
			return this;
		}

		/**
		 * Replace the heap size.
		 * @param heap for example {@code 192m}
		 * @return this builder
		 */
		public Builder heap(String heap) {
			this.jvmArgs.removeIf((arg) -> arg.startsWith("-Xmx"));
			this.jvmArgs.add("-Xmx" + heap);
			return this;
		}

		/**
		 * Use the full JIT instead of the quick-start C1-only default, for children that run long and hot.
		 * @return this builder
		 */
		public Builder fullJit() {
			this.jvmArgs.remove("-XX:TieredStopAtLevel=1");
			return this;
		}

		/**
		 * Start the child on a class path of its own instead of the test's: an application's, as Maven resolves it.
		 * @param classPath the class path
		 * @return this builder
		 */
		public Builder classPath(String classPath) {
			this.classPath = classPath;
			return this;
		}

		public Builder jvmArg(String arg) {
			this.jvmArgs.add(arg);
			return this;
		}

		public Builder systemProperty(String key, Object value) {
			this.systemProperties.put(key, String.valueOf(value));
			return this;
		}

		public Builder env(String key, String value) {
			this.environment.put(key, value);
			return this;
		}

		/**
		 * Do not keep output lines in memory (a broker prints a lot); they still go to the log file.
		 * @return this builder
		 */
		public Builder discardLines() {
			this.keepLines = false;
			return this;
		}

		public ChildJvm start() {
			Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
			List<String> command = new ArrayList<>();
			command.add(java.toString());
			command.addAll(this.jvmArgs);
			this.systemProperties.forEach((key, value) -> command.add("-D" + key + "=" + value));
			command.add("-cp");
			command.add(this.classPath);
			command.add(this.mainClass);
			command.addAll(this.args);
			try {
				Path logs = Files.createDirectories(Paths.get("target", "child-logs"));
				String unique = this.name + "-" + SEQUENCE.incrementAndGet();
				while (Files.exists(logs.resolve(unique + ".log"))) { // left by an earlier run of the tests
					unique = this.name + "-" + SEQUENCE.incrementAndGet();
				}
				Path logFile = logs.resolve(unique + ".log");
				ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
					.redirectOutput(logFile.toFile());
				builder.environment().putAll(this.environment);
				return new ChildJvm(unique, builder.start(), logFile, this.keepLines);
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Cannot start " + this.mainClass, ex);
			}
		}

	}

}

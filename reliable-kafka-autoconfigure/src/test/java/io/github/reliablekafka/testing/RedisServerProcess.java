package io.github.reliablekafka.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import org.springframework.util.FileSystemUtils;

/**
 * A {@code redis-server} process of a test's own, on its own port and data directory, that the test can stop
 * (SIGKILL) and start again on the same port: a Redis outage that the shared server must not suffer. The binary is
 * {@code RK_REDIS_SERVER} or {@code redis-server} on the {@code PATH}; without one the test is skipped, or fails
 * with {@code CI=true}.
 */
public final class RedisServerProcess implements AutoCloseable {

	private final String binary;

	private final int port;

	private final Path dir;

	private final boolean persistent;

	private Process process;

	private RedisServerProcess(String binary, int port, Path dir, boolean persistent) {
		this.binary = binary;
		this.port = port;
		this.dir = dir;
		this.persistent = persistent;
	}

	/**
	 * Start a Redis server.
	 * @param persistent whether it keeps its data across a stop (append-only file, fsync on every write) or loses
	 * everything
	 * @return the running server
	 */
	public static RedisServerProcess start(boolean persistent) {
		String binary = findBinary();
		try {
			int port;
			try (ServerSocket socket = new ServerSocket(0)) {
				port = socket.getLocalPort();
			}
			Path dir = Files.createTempDirectory(Paths.get("target").toAbsolutePath(), "redis-");
			RedisServerProcess server = new RedisServerProcess(binary, port, dir, persistent);
			server.start();
			return server;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	public int port() {
		return this.port;
	}

	/**
	 * Start the server (again) on its port, and wait until it answers.
	 */
	public synchronized void start() {
		List<String> command = new ArrayList<>(List.of(this.binary, "--port", String.valueOf(this.port), "--bind",
				"127.0.0.1", "--dir", this.dir.toString(), "--save", ""));
		command.addAll(this.persistent ? List.of("--appendonly", "yes", "--appendfsync", "always")
				: List.of("--appendonly", "no"));
		try {
			this.process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(this.dir.resolve("redis.log").toFile())
				.start();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
		while (!TestServices.redisAnswers("127.0.0.1", this.port)) {
			if (!this.process.isAlive() || System.nanoTime() > deadline) {
				throw new IllegalStateException("redis-server did not start on port " + this.port + "; see "
						+ this.dir.resolve("redis.log"));
			}
			sleep(50);
		}
	}

	/**
	 * Kill the server with SIGKILL and wait until it is gone.
	 */
	public synchronized void stop() {
		if (this.process != null && this.process.isAlive()) {
			this.process.destroyForcibly();
			try {
				this.process.waitFor(20, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (TestServices.redisAnswers("127.0.0.1", this.port) && System.nanoTime() < deadline) {
			sleep(50);
		}
	}

	@Override
	public void close() {
		stop();
		FileSystemUtils.deleteRecursively(this.dir.toFile());
	}

	private static String findBinary() {
		String configured = System.getenv("RK_REDIS_SERVER");
		if (configured != null && !configured.isBlank()) {
			return configured;
		}
		String path = System.getenv("PATH");
		for (String dir : (path != null) ? path.split(File.pathSeparator) : new String[0]) {
			File candidate = new File(dir, "redis-server");
			if (candidate.canExecute()) {
				return candidate.getAbsolutePath();
			}
		}
		String message = "no redis-server binary on the PATH (or RK_REDIS_SERVER) to start a Redis the test may stop";
		if (TestServices.inCi()) {
			throw new IllegalStateException("CI=true and a required service is missing: " + message);
		}
		Assumptions.abort("Skipped: " + message);
		throw new AssertionError("unreachable");
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

	@Override
	public String toString() {
		return "redis-server:" + this.port;
	}

}

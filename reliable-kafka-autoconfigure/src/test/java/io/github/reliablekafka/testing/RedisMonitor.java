package io.github.reliablekafka.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the commands clients send a Redis server, by name, through {@code MONITOR}: each is one round trip of its
 * client. Commands a script runs ({@code [0 lua]}) are not counted; the script's {@code EVALSHA} is.
 */
public final class RedisMonitor implements AutoCloseable {

	private final Socket socket;

	private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

	private final Thread reader;

	private RedisMonitor(Socket socket) throws IOException {
		this.socket = socket;
		BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
		OutputStream out = socket.getOutputStream();
		out.write("MONITOR\r\n".getBytes(StandardCharsets.UTF_8));
		out.flush();
		String ok = in.readLine();
		if (!"+OK".equals(ok)) {
			throw new IllegalStateException("MONITOR refused: " + ok);
		}
		this.reader = new Thread(() -> read(in), "redis-monitor");
		this.reader.setDaemon(true);
		this.reader.start();
	}

	/**
	 * Start counting the commands a server receives from now on.
	 * @param port the server's port on localhost
	 * @return the monitor
	 */
	public static RedisMonitor start(int port) {
		try {
			return new RedisMonitor(new Socket("localhost", port));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private void read(BufferedReader in) {
		try {
			String line;
			while ((line = in.readLine()) != null) {
				int source = line.indexOf('[');
				int end = line.indexOf(']', source + 1);
				if (source < 0 || end < 0 || line.substring(source, end).endsWith(" lua")) {
					continue;
				}
				int open = line.indexOf('"', end);
				int close = line.indexOf('"', open + 1);
				if (open > 0 && close > open) {
					this.counts.computeIfAbsent(line.substring(open + 1, close).toUpperCase(), (name) -> new AtomicLong())
						.incrementAndGet();
				}
			}
		}
		catch (IOException closed) {
			// the monitor was closed
		}
	}

	/**
	 * Return what was counted so far.
	 * @return the calls of each command, by upper-case name
	 */
	public Map<String, Long> counts() {
		Map<String, Long> copy = new TreeMap<>();
		this.counts.forEach((name, count) -> copy.put(name, count.get()));
		return copy;
	}

	/**
	 * Return the calls counted so far of some commands.
	 * @param names upper-case command names
	 * @return their calls, summed
	 */
	public long calls(String... names) {
		long sum = 0;
		for (String name : names) {
			AtomicLong count = this.counts.get(name);
			sum += (count != null) ? count.get() : 0;
		}
		return sum;
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
	}

}

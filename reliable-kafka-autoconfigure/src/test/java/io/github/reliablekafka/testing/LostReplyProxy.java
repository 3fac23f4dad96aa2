package io.github.reliablekafka.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP proxy in front of a PostgreSQL or MariaDB server that can lose the reply to one request: the server receives it and
 * carries it out, and the client's connection breaks before the answer reaches it. The client then cannot tell
 * whether its commit (or its auto-committed statement) took effect (the in-doubt case), and in fact it did.
 *
 * <p>
 * The request is picked by a marker, for example a message's payload: the request (everything the client sent since
 * the server last answered) that holds it, or the first {@code COMMIT} of the connection that sent it, in that
 * request or a later one.
 */
public final class LostReplyProxy implements AutoCloseable {

	private static final Pattern HOST_PORT = Pattern.compile("(jdbc:(postgresql|mariadb)://)([^/:]+)(?::(\\d+))?/");

	private final String url;

	private final String host;

	private final int port;

	private final ServerSocket server;

	private final AtomicReference<byte[]> marker = new AtomicReference<>();

	/** Whether the reply to lose is the one to the marked connection's commit, not to the marker's own request. */
	private volatile boolean atCommit;

	private final AtomicInteger dropped = new AtomicInteger();

	private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

	private LostReplyProxy(String url) throws IOException {
		Matcher matcher = HOST_PORT.matcher(url);
		if (!matcher.find()) {
			throw new IllegalArgumentException("Not a PostgreSQL or MariaDB JDBC URL with a host: " + url);
		}
		this.host = matcher.group(3);
		this.port = (matcher.group(4) != null) ? Integer.parseInt(matcher.group(4))
				: ("postgresql".equals(matcher.group(2)) ? 5432 : 3306);
		this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		this.url = matcher.replaceFirst("$1127.0.0.1:" + this.server.getLocalPort() + "/");
		Thread acceptor = new Thread(this::accept, "lost-reply-proxy");
		acceptor.setDaemon(true);
		acceptor.start();
	}

	/**
	 * Start a proxy in front of the server of a PostgreSQL or MariaDB JDBC URL.
	 * @param url the URL
	 * @return the running proxy
	 * @throws IOException if no local port could be opened
	 */
	public static LostReplyProxy inFrontOf(String url) throws IOException {
		return new LostReplyProxy(url);
	}

	/**
	 * Return the URL that goes through this proxy.
	 * @return the URL given, with this proxy's address
	 */
	public String url() {
		return this.url;
	}

	/**
	 * Lose the reply to the commit of the connection that sends {@code marker} next.
	 * @param marker text a request of that connection holds, before or with its {@code COMMIT}
	 */
	public void loseCommitReplyOfConnectionSending(String marker) {
		this.atCommit = true;
		this.marker.set(marker.getBytes(StandardCharsets.UTF_8));
	}

	/**
	 * Lose the reply to the next request that holds {@code marker}.
	 * @param marker text the request holds
	 */
	public void loseReplyTo(String marker) {
		this.atCommit = false;
		this.marker.set(marker.getBytes(StandardCharsets.UTF_8));
	}

	/**
	 * Return how many replies were lost.
	 * @return the count
	 */
	public int dropped() {
		return this.dropped.get();
	}

	@Override
	public void close() throws IOException {
		this.server.close();
		for (Socket socket : this.sockets) {
			closeQuietly(socket);
		}
	}

	private void accept() {
		while (!this.server.isClosed()) {
			try {
				Socket client = this.server.accept();
				Socket upstream = new Socket(this.host, this.port);
				this.sockets.add(client);
				this.sockets.add(upstream);
				Link link = new Link(client, upstream);
				start(link::clientToServer, "lost-reply-proxy-up");
				start(link::serverToClient, "lost-reply-proxy-down");
			}
			catch (IOException ex) {
				// closed, or the server refused: the client sees its connection fail
			}
		}
	}

	private static void start(Runnable pump, String name) {
		Thread thread = new Thread(pump, name);
		thread.setDaemon(true);
		thread.start();
	}

	private static void closeQuietly(Socket socket) {
		try {
			socket.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

	private static boolean contains(byte[] haystack, int length, byte[] needle) {
		outer: for (int i = 0; i + needle.length <= length; i++) {
			for (int j = 0; j < needle.length; j++) {
				if (haystack[i + j] != needle[j]) {
					continue outer;
				}
			}
			return true;
		}
		return false;
	}

	/**
	 * One client connection and its connection to the server.
	 */
	private final class Link {

		/**
		 * A PostgreSQL Parse message that prepares {@code COMMIT} as a named statement: once the driver reuses a
		 * statement (pgjdbc's {@code prepareThreshold}, 5 executions), later commits only bind that name.
		 */
		private static final Pattern PREPARED_COMMIT = Pattern.compile("(S_[0-9]+)\u0000COMMIT\u0000");

		/** Names of the statements this connection prepared as {@code COMMIT}. */
		private final Set<String> commitStatements = new HashSet<>();

		private final Socket client;

		private final Socket upstream;

		/** What the client sent since the server last answered. */
		private final ByteArrayOutputStream request = new ByteArrayOutputStream();

		/** Whether this connection sent the marker and its reply to lose has not come yet. */
		private boolean marked;

		private boolean dropReply;

		Link(Socket client, Socket upstream) {
			this.client = client;
			this.upstream = upstream;
		}

		void clientToServer() {
			pump(this.client, this.upstream, this::sent);
		}

		void serverToClient() {
			pump(this.upstream, this.client, this::answered);
		}

		/** The client sent a chunk: is it the marked request, or the marked connection's commit? */
		private synchronized boolean sent(byte[] chunk, int length) {
			this.request.write(chunk, 0, length);
			byte[] marker = LostReplyProxy.this.marker.get();
			byte[] sent = this.request.toByteArray();
			if (marker != null && contains(sent, sent.length, marker)
					&& LostReplyProxy.this.marker.compareAndSet(marker, null)) {
				this.marked = true;
			}
			boolean commit = isCommit(sent);
			if (this.marked && (!LostReplyProxy.this.atCommit || commit)) {
				this.marked = false;
				this.dropReply = true;
			}
			return true;
		}

		/** Whether the request commits: it says {@code COMMIT}, or binds a statement prepared as {@code COMMIT}. */
		private boolean isCommit(byte[] sent) {
			String text = new String(sent, StandardCharsets.ISO_8859_1);
			Matcher prepared = PREPARED_COMMIT.matcher(text);
			while (prepared.find()) {
				this.commitStatements.add(prepared.group(1));
			}
			if (text.contains("COMMIT")) {
				return true;
			}
			for (String name : this.commitStatements) {
				if (text.contains("\u0000" + name + "\u0000")) {
					return true;
				}
			}
			return false;
		}

		/** The server answered: pass it on, unless it answers the request whose reply is to be lost. */
		private synchronized boolean answered(byte[] chunk, int length) {
			if (this.dropReply) {
				// the server has carried out the request and answers: the client never hears it
				LostReplyProxy.this.dropped.incrementAndGet();
				return false;
			}
			this.request.reset();
			return true;
		}

		/**
		 * Copy from one socket to the other while {@code pass} lets each chunk through; then close both.
		 */
		private static void pump(Socket from, Socket to, Chunk pass) {
			byte[] buffer = new byte[64 * 1024];
			try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
				int read;
				while ((read = in.read(buffer)) >= 0 && pass.test(buffer, read)) {
					out.write(buffer, 0, read);
					out.flush();
				}
			}
			catch (IOException ex) {
				// one side closed
			}
			finally {
				closeQuietly(from);
				closeQuietly(to);
			}
		}

	}

	@FunctionalInterface
	private interface Chunk {

		boolean test(byte[] buffer, int length);

	}

}

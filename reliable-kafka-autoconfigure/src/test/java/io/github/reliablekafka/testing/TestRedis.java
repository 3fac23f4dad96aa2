package io.github.reliablekafka.testing;

import java.net.URI;
import java.util.UUID;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * A Redis for a test: the shared server found by {@link TestServices}, and a key prefix of the test's own so that
 * runs never see each other's keys.
 */
public final class TestRedis implements AutoCloseable {

	private final URI url;

	private final String keyPrefix = "rk-test:" + UUID.randomUUID().toString().substring(0, 8) + ":";

	private LettuceConnectionFactory connectionFactory;

	private TestRedis(URI url) {
		this.url = url;
	}

	/**
	 * Find Redis for this test.
	 * @return the Redis
	 */
	public static TestRedis shared() {
		return new TestRedis(TestServices.redisUrl());
	}

	public String host() {
		return this.url.getHost();
	}

	public int port() {
		return this.url.getPort();
	}

	public String keyPrefix() {
		return this.keyPrefix;
	}

	/**
	 * Return a started connection factory, created on first use and closed with this object.
	 * @return the connection factory
	 */
	public synchronized LettuceConnectionFactory connectionFactory() {
		if (this.connectionFactory == null) {
			this.connectionFactory = new LettuceConnectionFactory(new RedisStandaloneConfiguration(host(), port()));
			this.connectionFactory.afterPropertiesSet();
			this.connectionFactory.start();
		}
		return this.connectionFactory;
	}

	@Override
	public synchronized void close() {
		if (this.connectionFactory != null) {
			this.connectionFactory.destroy();
		}
	}

}

package io.github.reliablekafka.autoconfigure.idempotency;

import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.jedis.JedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.util.ClassUtils;

/**
 * Tells whether a Redis connection factory talks to a Redis Cluster, from its configuration, without connecting: with
 * Lettuce (Spring Boot's default client) or Jedis.
 */
final class RedisClusters {

	private static final boolean LETTUCE = ClassUtils.isPresent("io.lettuce.core.RedisClient",
			RedisClusters.class.getClassLoader());

	private static final boolean JEDIS = ClassUtils.isPresent("redis.clients.jedis.Jedis",
			RedisClusters.class.getClassLoader());

	private RedisClusters() {
	}

	/**
	 * Whether the factory is configured for a Redis Cluster.
	 * @param factory the application's factory
	 * @return {@code true} for a cluster; {@code false} for a standalone or Sentinel Redis, or a factory of another
	 * kind
	 */
	static boolean isCluster(RedisConnectionFactory factory) {
		return (LETTUCE && Lettuce.isCluster(factory)) || (JEDIS && Jedis.isCluster(factory));
	}

	/** Loaded only with Lettuce on the class path. */
	private static final class Lettuce {

		static boolean isCluster(RedisConnectionFactory factory) {
			return factory instanceof LettuceConnectionFactory lettuce && lettuce.isClusterAware();
		}

	}

	/** Loaded only with Jedis on the class path. */
	private static final class Jedis {

		static boolean isCluster(RedisConnectionFactory factory) {
			return factory instanceof JedisConnectionFactory jedis && jedis.isRedisClusterAware();
		}

	}

}

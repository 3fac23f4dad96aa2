package io.github.reliablekafka.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.alibaba.fastjson2.JSON;
import com.alibaba.fastjson2.JSONArray;
import com.alibaba.fastjson2.JSONObject;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.Environment;

/**
 * Finds {@code reliable.kafka.*} settings that no property of the library has (a typo binds to nothing, and the
 * setting the user meant keeps its default without a word), each with the nearest property that exists. The known
 * properties are those of the configuration metadata on the class path, as an IDE reads it; names are compared the
 * way Spring Boot binds them, so {@code RELIABLE_KAFKA_OUTBOX_ENABLED} and {@code reliable.kafka.outbox.enabled}
 * are one.
 */
final class UnknownPropertyCheck {

	private static final String PREFIX = "reliable.kafka.";

	private UnknownPropertyCheck() {
	}

	/**
	 * Return a warning for each unknown setting.
	 * @param environment the application's environment
	 * @param classLoader where the configuration metadata is read from
	 * @return the warnings, one per setting
	 */
	static List<String> warnings(Environment environment, @Nullable ClassLoader classLoader) {
		Known known = known(classLoader);
		Map<String, String> unknown = new LinkedHashMap<>();
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
			if (!(source instanceof IterableConfigurationPropertySource iterable)) {
				continue;
			}
			iterable.stream()
				.map(ConfigurationPropertyName::toString)
				.filter((name) -> name.startsWith(PREFIX))
				.filter((name) -> !known.contains(name))
				.forEach((name) -> unknown.putIfAbsent(name, String.valueOf(source.getUnderlyingSource())));
		}
		List<String> warnings = new ArrayList<>();
		unknown.forEach((name, origin) -> {
			String renamed = renamed(name);
			if (renamed != null) {
				warnings.add("Property " + name + " (in " + origin + ") was renamed to " + renamed + " (Spring Boot's "
						+ "back-off names); the old name is ignored");
				return;
			}
			String nearest = known.nearest(name);
			warnings.add("Unknown property " + name + " (in " + origin + ") is not a reliable-kafka setting and is "
					+ "ignored" + ((nearest != null) ? "; did you mean " + nearest + "?" : "; see docs/configuration.md"));
		});
		return warnings;
	}

	/**
	 * Return the new name of a property the library renamed, or {@code null}: the retry groups took Spring Boot's
	 * back-off names ({@code delay}, {@code max-delay}), and the outbox's attempts moved into its retry group.
	 */
	static @Nullable String renamed(String name) {
		if (name.equals(PREFIX + "outbox.max-attempts")) {
			return PREFIX + "outbox.retry.max-attempts";
		}
		for (String group : List.of("producer", "consumer", "outbox")) {
			String retry = PREFIX + group + ".retry.";
			if (name.equals(retry + "initial-interval")) {
				return retry + "delay";
			}
			if (name.equals(retry + "max-interval")) {
				return retry + "max-delay";
			}
		}
		return null;
	}

	private static Known known(@Nullable ClassLoader classLoader) {
		Set<String> names = new HashSet<>();
		Set<String> maps = new HashSet<>();
		try {
			ClassLoader loader = (classLoader != null) ? classLoader : UnknownPropertyCheck.class.getClassLoader();
			Enumeration<URL> resources = loader.getResources("META-INF/spring-configuration-metadata.json");
			while (resources.hasMoreElements()) {
				try (InputStream in = resources.nextElement().openStream()) {
					JSONArray properties = JSON.parseObject(in.readAllBytes()).getJSONArray("properties");
					if (properties == null) {
						continue;
					}
					for (Object each : properties) {
						JSONObject property = (JSONObject) each;
						String name = property.getString("name");
						if (name != null && name.startsWith(PREFIX)) {
							names.add(name);
							String type = property.getString("type");
							if (type != null && type.startsWith("java.util.Map")) {
								maps.add(name);
							}
						}
					}
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read the configuration metadata", ex);
		}
		return new Known(names, maps);
	}

	/** The known names, and the comparable form of each. */
	private static final class Known {

		private final Map<String, String> byForm = new LinkedHashMap<>();

		private final Set<String> mapForms = new HashSet<>();

		private Known(Set<String> names, Set<String> maps) {
			names.stream().sorted().forEach((name) -> this.byForm.put(form(name), name));
			maps.forEach((name) -> this.mapForms.add(form(name)));
		}

		boolean contains(String name) {
			String form = form(name);
			if (this.byForm.containsKey(form)) {
				return true;
			}
			return this.mapForms.stream().anyMatch((map) -> form.startsWith(map + "."));
		}

		@Nullable String nearest(String name) {
			String form = form(name);
			String best = null;
			int bestDistance = Integer.MAX_VALUE;
			for (Map.Entry<String, String> known : this.byForm.entrySet()) {
				int distance = distance(form, known.getKey());
				if (distance < bestDistance) {
					bestDistance = distance;
					best = known.getValue();
				}
			}
			return (bestDistance <= Math.max(3, form.length() / 4)) ? best : null;
		}

		/** Dashes, dots and underscores alike, no list indexes, lower case: how Spring Boot's binder sees a name. */
		private static String form(String name) {
			return name.replaceAll("\\[[^\\]]*\\]", "").replace('-', '.').replace('_', '.').toLowerCase(Locale.ROOT);
		}

		private static int distance(String a, String b) {
			int[] previous = new int[b.length() + 1];
			int[] current = new int[b.length() + 1];
			for (int j = 0; j <= b.length(); j++) {
				previous[j] = j;
			}
			for (int i = 1; i <= a.length(); i++) {
				current[0] = i;
				for (int j = 1; j <= b.length(); j++) {
					int substitution = previous[j - 1] + ((a.charAt(i - 1) == b.charAt(j - 1)) ? 0 : 1);
					current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
				}
				int[] swap = previous;
				previous = current;
				current = swap;
			}
			return previous[b.length()];
		}

	}

}

package io.github.reliablekafka.testing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts the test applications: no web server, no banner, properties as {@code name=value} where a later one
 * replaces an earlier one of the same name.
 */
public final class TestApplications {

	private TestApplications() {
	}

	/**
	 * Start an application.
	 * @param sources its configuration classes
	 * @param properties {@code name=value} pairs, defaults first
	 * @return the running context
	 */
	public static ConfigurableApplicationContext run(List<Class<?>> sources, List<String> properties) {
		Map<String, String> byName = new LinkedHashMap<>();
		byName.put("spring.main.banner-mode", "spring.main.banner-mode=off");
		properties.forEach((property) -> byName.put(property.substring(0, property.indexOf('=')), property));
		return new SpringApplicationBuilder(sources.toArray(Class[]::new)).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(byName.values().stream().map((property) -> "--" + property).toArray(String[]::new));
	}

}

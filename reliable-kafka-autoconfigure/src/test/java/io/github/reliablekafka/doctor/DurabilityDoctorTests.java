package io.github.reliablekafka.doctor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.delay.ReliableKafkaDelayAutoConfiguration;
import io.github.reliablekafka.autoconfigure.doctor.ReliableKafkaDoctorAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.doctor.DoctorReport.Check;
import io.github.reliablekafka.doctor.DoctorReport.Verdict;
import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.testing.KafkaTestCluster;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestApplications;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The durability doctor against real clusters: a 3-broker cluster with a weak topic and a weak producer, the same
 * cluster set up right, and a single-broker development cluster.
 */
class DurabilityDoctorTests {

	private static KafkaTestCluster cluster;

	@BeforeAll
	static void startCluster() throws Exception {
		cluster = KafkaTestCluster.threeBrokers();
		cluster.createTopic("doctor-good", 3, 3, Map.of("min.insync.replicas", "2"));
		cluster.createTopic("doctor-weak", 1, 1, Map.of("min.insync.replicas", "1"));
		cluster.createTopic("doctor-low-isr", 1, 3, Map.of("min.insync.replicas", "1"));
		cluster.createTopic("doctor-unclean", 1, 3, Map.of("unclean.leader.election.enable", "true"));
	}

	@AfterAll
	static void stopCluster() throws Exception {
		cluster.close();
	}

	@Test
	void aReplicationFactorOneTopicAndAcksOneAreFlagged() {
		try (ConfigurableApplicationContext context = start(cluster.bootstrapServers(), List.of(),
				"reliable.kafka.doctor.topics=doctor-good,doctor-weak,doctor-low-isr,doctor-unclean",
				"spring.kafka.producer.acks=1")) {
			DoctorReport report = context.getBean(StartupDoctor.class).report();
			System.out.println(report.render());
			assertThat(report.developmentCluster()).isFalse();
			assertThat(report.brokers()).isEqualTo(3);
			assertThat(failed(report)).containsExactlyInAnyOrder("acks@producer", "enable.idempotence@producer",
					"replication.factor@doctor-weak", "min.insync.replicas@doctor-weak",
					"min.insync.replicas@doctor-low-isr", "unclean.leader.election.enable@doctor-unclean");
			assertThat(report.with(Verdict.DEV)).isEmpty();
			assertThat(report.render()).contains("acks=1").contains("replication.factor >= 3");
		}
	}

	@Test
	void failModeRefusesToStartAndListsEveryFailedCheckWithItsFix() {
		assertThatThrownBy(() -> start(cluster.bootstrapServers(), List.of(), "reliable.kafka.doctor.mode=fail",
				"reliable.kafka.doctor.topics=doctor-good,doctor-weak", "spring.kafka.producer.acks=1"))
			.hasRootCauseInstanceOf(DurabilityCheckException.class)
			.rootCause()
			.hasMessageContaining("4 durability check(s) failed")
			.hasMessageContaining("acks (producer): expected all, is 1. Fix:")
			.hasMessageContaining("replication.factor (doctor-weak): expected >= 3, is 1. Fix:")
			.hasMessageContaining("min.insync.replicas (doctor-weak)")
			.hasMessageContaining("reliable.kafka.doctor.mode=warn");
	}

	/**
	 * A cluster set up right (the listened topic with replication factor 3 and min.insync.replicas 2) and the
	 * library's defaults: fail mode starts, no delay tier topic or forwarder group exists until the application
	 * delays something, and the tier topics it then creates pass the doctor too.
	 */
	@Test
	void aCorrectThreeBrokerSetUpPassesTheDoctorInFailModeWithTheLibrarysOwnTopics() throws Exception {
		try (ConfigurableApplicationContext context = start(cluster.bootstrapServers(),
				List.of(GoodListener.class, DelayAutoConfiguration.class), "reliable.kafka.doctor.mode=fail")) {
			StartupDoctor doctor = context.getBean(StartupDoctor.class);
			DoctorReport report = doctor.report();
			System.out.println(report.render());
			assertThat(report.checks()).allSatisfy((check) -> assertThat(check.verdict()).as(check.toString())
				.isEqualTo(Verdict.OK));
			assertThat(report.checks()).as("the listener's topic is checked")
				.anySatisfy((check) -> assertThat(check.subject()).isEqualTo("doctor-good"));
			try (Admin admin = KafkaTestSupport.admin(cluster.bootstrapServers())) {
				assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
					.as("no delay tier topic before anything is delayed")
					.noneMatch((topic) -> topic.startsWith("rk-delay-"));
				assertThat(admin.listGroups().all().get(30, TimeUnit.SECONDS))
					.as("no forwarder before anything is delayed")
					.noneMatch((group) -> group.groupId().equals("rk-delay-forwarder"));
				context.getBean(ReliableKafkaTemplate.class)
					.sendDelayed("doctor-good", "k", "later", Duration.ofSeconds(1))
					.get(60, TimeUnit.SECONDS);
				assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
					.as("the tier topics, created on first use")
					.contains("rk-delay-1s", "rk-delay-2h", "rk-delay-dlt");
			}
			DoctorReport after = doctor.recheck();
			System.out.println(after.render());
			assertThat(after.checks()).as("the tier topics are checked once they exist")
				.anySatisfy((check) -> assertThat(check.subject()).isEqualTo("rk-delay-1s"));
			assertThat(after.checks()).allSatisfy((check) -> assertThat(check.verdict()).as(check.toString())
				.isEqualTo(Verdict.OK));
		}
	}

	@Test
	void aSingleBrokerClusterGetsADevelopmentNoteNotAWallOfErrors() {
		String topic = KafkaTestSupport.newTopic("doctor-dev", 1);
		try (ConfigurableApplicationContext context = start(KafkaTestSupport.bootstrapServers(), List.of(),
				"reliable.kafka.doctor.mode=fail", "reliable.kafka.doctor.topics=" + topic)) {
			DoctorReport report = context.getBean(StartupDoctor.class).report();
			System.out.println(report.render());
			assertThat(report.developmentCluster()).isTrue();
			assertThat(report.with(Verdict.FAIL)).isEmpty();
			assertThat(report.with(Verdict.DEV)).extracting(Check::check)
				.containsExactlyInAnyOrder("brokers", "replication.factor", "min.insync.replicas");
			assertThat(report.render()).contains("Development cluster (1 broker)");
		}
	}

	@Test
	void anUnreachableClusterFailsTheCheckClearly() {
		try (SharedAdmin admin = new SharedAdmin(Map.of("bootstrap.servers", "localhost:1"))) {
			DurabilityDoctor doctor = new DurabilityDoctor(admin, Map.of(), null, List::of, null,
					java.time.Duration.ofSeconds(2));
			DoctorReport report = doctor.examine();
			assertThat(failed(report)).containsExactly("reachable@cluster");
			assertThat(report.brokers()).isEqualTo(-1);
		}
	}

	private static List<String> failed(DoctorReport report) {
		return report.with(Verdict.FAIL).stream().map((check) -> check.check() + "@" + check.subject()).toList();
	}

	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaAutoConfiguration.class,
			ReliableKafkaProducerAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class, ReliableKafkaDoctorAutoConfiguration.class })
	static class AutoConfigurations {

	}

	@ImportAutoConfiguration(ReliableKafkaDelayAutoConfiguration.class)
	static class DelayAutoConfiguration {

	}

	static ConfigurableApplicationContext start(String bootstrapServers, List<Class<?>> sources, String... properties) {
		List<String> all = new ArrayList<>(List.of("spring.kafka.bootstrap-servers=" + bootstrapServers));
		all.addAll(List.of(properties));
		List<Class<?>> classes = new ArrayList<>(sources);
		classes.add(AutoConfigurations.class);
		return TestApplications.run(classes, all);
	}

	@Configuration(proxyBeanMethods = false)
	static class GoodListener {

		@Bean
		Listener listener() {
			return new Listener();
		}

	}

	static class Listener {

		@ReliableListener(id = "doctor-good", topics = "doctor-good", groupId = "doctor-good")
		void on(String payload) {
		}

	}

}

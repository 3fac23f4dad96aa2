package io.github.reliablekafka.consumer;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.support.SendResult;

/**
 * Publishes dead letters that always fit: spring-kafka's recoverer, with the exception's message and stack trace cut
 * to a bound in the headers (a parser's message can quote tens of kilobytes of the input, and a dead letter over
 * {@code max.request.size} could never be published: its record would be retried forever and its partition stop),
 * and a record still too large without its value: an empty value and headers that say where the original is
 * ({@code rk-dlt-value-omitted} with its size, {@code rk-dlt-origin} as {@code topic-partition@offset}, and spring-kafka's
 * {@code kafka_dlt-original-*}), so that an operator can fetch it.
 */
final class BoundedDeadLetterRecoverer extends DeadLetterPublishingRecoverer {

	/** The header that says a dead letter was published without its value, and the value's size in bytes. */
	static final String VALUE_OMITTED = "rk-dlt-value-omitted";

	/** The header that names the original record, {@code topic-partition@offset}. */
	static final String ORIGIN = "rk-dlt-origin";

	/** Room for the record batch's own overhead within max.request.size. */
	private static final int BATCH_OVERHEAD = 1_024;

	private static final Logger logger = LoggerFactory.getLogger(ReliableListener.class);

	private final DeadLetterLimits limits;

	private final @Nullable String group;

	private final DeadLetterRecords records;

	BoundedDeadLetterRecoverer(KafkaOperations<String, byte[]> template, String suffix, DeadLetterLimits limits,
			@Nullable String group, DeadLetterRecords records) {
		super(template, (record, ex) -> new TopicPartition(record.topic() + suffix, -1));
		this.limits = limits;
		this.group = group;
		this.records = records;
		setFailIfSendResultIsError(true);
		setExceptionHeadersCreator(this::exceptionHeaders);
	}

	private void exceptionHeaders(Headers headers, Exception exception, boolean isKey, HeaderNames names) {
		HeaderNames.ExceptionInfo info = names.getExceptionInfo();
		String fqcn = isKey ? info.getKeyExceptionFqcn() : info.getExceptionFqcn();
		String message = isKey ? info.getKeyExceptionMessage() : info.getExceptionMessage();
		String stackTrace = isKey ? info.getKeyExceptionStacktrace() : info.getExceptionStacktrace();
		replace(headers, fqcn, exception.getClass().getName());
		if (!isKey && exception.getCause() != null) { // as spring-kafka does: the direct cause
			replace(headers, info.getExceptionCauseFqcn(), exception.getCause().getClass().getName());
		}
		// the messages of the exception and of each cause, once each: the listener's own reason is rarely outermost
		StringBuilder text = new StringBuilder();
		java.util.Set<String> seen = new java.util.HashSet<>();
		for (Throwable cause = exception; cause != null && text.length() < this.limits.maxExceptionMessageBytes();
				cause = (cause.getCause() != cause) ? cause.getCause() : null) {
			String each = cause.getMessage();
			if (each != null && seen.add(each)) {
				text.append((text.length() > 0) ? "; " : "").append(each);
			}
		}
		replace(headers, message, cut(text.toString(), this.limits.maxExceptionMessageBytes()));
		StringWriter trace = new StringWriter();
		exception.printStackTrace(new PrintWriter(trace));
		replace(headers, stackTrace, cut(trace.toString(), this.limits.maxStackTraceBytes()));
	}

	@Override
	protected ProducerRecord<Object, Object> createProducerRecord(ConsumerRecord<?, ?> record,
			TopicPartition topicPartition, Headers headers, byte @Nullable [] key, byte @Nullable [] value) {
		ProducerRecord<Object, Object> letter = super.createProducerRecord(record, topicPartition, headers, key, value);
		int size = size(letter);
		if (size + BATCH_OVERHEAD <= this.limits.maxRecordBytes() || !(letter.value() instanceof byte[] bytes)) {
			return letter;
		}
		Headers kept = letter.headers();
		String origin = record.topic() + "-" + record.partition() + "@" + record.offset();
		RkHeaders.set(kept, VALUE_OMITTED, Integer.toString(bytes.length));
		RkHeaders.set(kept, ORIGIN, origin);
		logger.warn("Dead letter of {} (rk-id={}) is published without its value: with its {} bytes it would be {} "
				+ "bytes, over max.request.size={}; fetch the value from {}", origin,
				LogText.of(RkHeaders.id(record.headers())), bytes.length, size, this.limits.maxRecordBytes(), origin);
		return new ProducerRecord<>(letter.topic(), letter.partition(), letter.timestamp(), letter.key(), new byte[0],
				kept);
	}

	/** Once the dead letter is confirmed, record where it went (for "where is message X?"). */
	@Override
	protected void verifySendResult(KafkaOperations<Object, Object> kafkaTemplate, ProducerRecord<Object, Object> outRecord,
			@Nullable CompletableFuture<SendResult<Object, Object>> sendResult, ConsumerRecord<?, ?> inRecord) {
		super.verifySendResult(kafkaTemplate, outRecord, sendResult, inRecord);
		SendResult<Object, Object> sent = (sendResult != null && sendResult.isDone()
				&& !sendResult.isCompletedExceptionally()) ? sendResult.getNow(null) : null;
		if (this.group != null && sent != null && sent.getRecordMetadata() != null) {
			String fqcn = RkHeaders.text(outRecord.headers(), KafkaHeaders.DLT_EXCEPTION_FQCN);
			String cause = RkHeaders.text(outRecord.headers(), KafkaHeaders.DLT_EXCEPTION_CAUSE_FQCN);
			if (cause != null && fqcn != null && fqcn.startsWith("org.springframework.kafka.")) {
				fqcn = cause; // the listener's own exception, not the container's wrapper around it
			}
			String message = RkHeaders.text(outRecord.headers(), KafkaHeaders.DLT_EXCEPTION_MESSAGE);
			this.records.published(this.group, inRecord, sent.getRecordMetadata(),
					(fqcn != null) ? fqcn + ((message != null) ? ": " + message : "") : null);
		}
	}

	private static int size(ProducerRecord<Object, Object> record) {
		int size = sizeOf(record.key()) + sizeOf(record.value());
		for (Header header : record.headers()) {
			size += header.key().length() + ((header.value() != null) ? header.value().length : 0) + 8;
		}
		return size + 64;
	}

	private static int sizeOf(@Nullable Object part) {
		if (part instanceof byte[] bytes) {
			return bytes.length;
		}
		return (part != null) ? part.toString().getBytes(StandardCharsets.UTF_8).length : 0;
	}

	private static void replace(Headers headers, String name, String value) {
		headers.remove(name);
		headers.add(name, value.getBytes(StandardCharsets.UTF_8));
	}

	/** Cut a text to at most {@code maxBytes} UTF-8 bytes, saying so. */
	static String cut(String text, int maxBytes) {
		byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
		if (bytes.length <= maxBytes) {
			return text;
		}
		String suffix = "... (" + bytes.length + " bytes, cut)";
		int keep = Math.max(0, maxBytes - suffix.length());
		String head = new String(bytes, 0, keep, StandardCharsets.UTF_8);
		if (!head.isEmpty() && head.charAt(head.length() - 1) == '\uFFFD') {
			head = head.substring(0, head.length() - 1); // a character cut in half
		}
		return head + suffix;
	}

	/**
	 * The bounds of a dead letter.
	 *
	 * @param maxExceptionMessageBytes the longest exception message kept in its header
	 * @param maxStackTraceBytes the longest stack trace kept in its header
	 * @param maxRecordBytes the largest record the dead-letter producer sends (its {@code max.request.size})
	 */
	record DeadLetterLimits(int maxExceptionMessageBytes, int maxStackTraceBytes, int maxRecordBytes) {
	}

}

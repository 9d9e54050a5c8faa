package dev.fraiseql.observers.nats.internal;

import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and, when {@code auto_create_stream} allows, creates the JetStream stream that stores the
 * configured subjects.
 */
final class Streams {
  private static final Logger log = LoggerFactory.getLogger(Streams.class);
  static final int STREAM_NOT_FOUND = 10059;

  private final NatsSettings settings;

  Streams(NatsSettings settings) {
    this.settings = settings;
  }

  /**
   * Makes sure the configured subjects are captured by a stream: uses the configured stream when it
   * exists, leaves subjects already captured by another stream alone, and creates the configured
   * stream for the rest when {@code auto_create_stream} is on. Logs (never throws for) a missing stream.
   */
  void ensure(JetStreamManagement jsm) throws IOException, JetStreamApiException {
    try {
      StreamInfo info = jsm.getStreamInfo(settings.stream);
      StreamConfiguration c = info.getConfiguration();
      if (c.getDuplicateWindow() != null && c.getDuplicateWindow().compareTo(settings.duplicateWindow) < 0) {
        log.warn("[observer] JetStream stream {} de-duplicates over {}ms only, less than duplicate_window_ms = {}: "
            + "a publish retried after that is stored twice", settings.stream, c.getDuplicateWindow().toMillis(),
            settings.duplicateWindow.toMillis());
      }
      for (String subject : settings.subjects) {
        if (c.getSubjects().stream().noneMatch(p -> Subjects.covers(p, subject)) && streamOf(jsm, subject).isEmpty()) {
          log.error("[observer] no JetStream stream captures subject {}: stream {} exists with subjects {}; add it: "
              + "nats stream edit {} --subjects '{}'", subject, settings.stream, c.getSubjects(), settings.stream,
              String.join(",", plus(c.getSubjects(), subject)));
        }
      }
      return;
    } catch (JetStreamApiException e) {
      if (e.getApiErrorCode() != STREAM_NOT_FOUND) {
        throw e;
      }
    }
    List<String> missing = new ArrayList<>();
    for (String subject : settings.subjects) {
      Optional<String> other = streamOf(jsm, subject);
      if (other.isPresent()) {
        log.info("[observer] subject {} is stored by the existing JetStream stream {}", subject, other.get());
      } else {
        missing.add(subject);
      }
    }
    if (missing.isEmpty()) {
      return;
    }
    if (!settings.autoCreateStream) {
      log.error("[observer] no JetStream stream captures {}; publishes to it will fail. Create one: {} "
          + "(or set auto_create_stream = true in [observers.nats])", missing, addCommand(missing));
      return;
    }
    StreamConfiguration.Builder b = StreamConfiguration.builder()
        .name(settings.stream)
        .subjects(missing)
        .storageType(settings.storage)
        .duplicateWindow(settings.duplicateWindow)
        .replicas(settings.replicas)
        .maxMessages(settings.maxMsgs)
        .maxBytes(settings.maxBytes);
    if (!settings.maxAge.isZero()) {
      b.maxAge(settings.maxAge);
    }
    try {
      jsm.addStream(b.build());
      log.info("[observer] created JetStream stream {} for {} ({} storage, duplicate window {}ms)", settings.stream,
          missing, settings.storage.toString().toLowerCase(), settings.duplicateWindow.toMillis());
    } catch (JetStreamApiException e) {
      // another instance created it at the same moment: fine if it now exists
      try {
        jsm.getStreamInfo(settings.stream);
      } catch (JetStreamApiException again) {
        throw e;
      }
    }
  }

  /** The stream capturing {@code subject} (wildcards allowed), if any. */
  Optional<String> streamOf(JetStreamManagement jsm, String subject) throws IOException, JetStreamApiException {
    List<String> names = jsm.getStreamNames(subject);
    if (names.isEmpty()) {
      return Optional.empty();
    }
    if (names.size() > 1) {
      if (names.contains(settings.stream)) {
        return Optional.of(settings.stream);
      }
      log.warn("[observer] several JetStream streams capture {}: {}; using {}", subject, names, names.get(0));
    }
    return Optional.of(names.get(0));
  }

  /** Whether the configured subjects would capture {@code subject}, so that creating the stream helps. */
  boolean configuredFor(String subject) {
    return settings.subjects.stream().anyMatch(p -> Subjects.covers(p, subject));
  }

  /** The {@code nats} CLI command that creates a stream for {@code subjects}. */
  String addCommand(List<String> subjects) {
    return "nats stream add " + settings.stream + " --subjects '" + String.join(",", subjects) + "' --storage "
        + settings.storage.toString().toLowerCase() + " --dupe-window " + settings.duplicateWindow.toSeconds()
        + "s --defaults";
  }

  private static List<String> plus(List<String> list, String item) {
    List<String> out = new ArrayList<>(list);
    out.add(item);
    return out;
  }
}

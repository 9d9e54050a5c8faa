package dev.fraiseql.observers.examples;

import dev.fraiseql.observers.examples.support.RunNamespace;
import dev.fraiseql.observers.examples.support.Services;
import io.nats.client.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What an example run left behind: schemas and streams named after its run id (there should be none). */
final class Cleanup {
  private Cleanup() {}

  /** The run id an example printed ({@code <name>: run abc123 — ...}). */
  static String runId(String example, String output) {
    Matcher m = Pattern.compile(example + ": run ([a-z0-9]+) ").matcher(output);
    if (!m.find()) {
      throw new AssertionError("no run id in the output:\n" + output);
    }
    return m.group(1);
  }

  static List<String> leftovers(String example, String runId) throws Exception {
    List<String> found = new ArrayList<>();
    try (java.sql.Connection c = Services.connect(Services.pgUrl());
         PreparedStatement st = c.prepareStatement("SELECT nspname FROM pg_namespace WHERE nspname LIKE ?")) {
      st.setString(1, example + "%" + runId);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          found.add("schema " + rs.getString(1));
        }
      }
    }
    try (Connection nc = RunNamespace.connect(Services.natsUrl())) {
      String stream = (example + "_" + runId).toUpperCase(Locale.ROOT);
      if (nc.jetStreamManagement().getStreamNames().contains(stream)) {
        found.add("stream " + stream);
      }
    }
    return found;
  }
}

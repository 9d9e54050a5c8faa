package dev.fraiseql.observers.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of the ratio table: our throughput, the raw client's throughput, their ratio and the
 * target, plus what each side sent and what its receiver counted (they must be equal).
 *
 * @param name case name, e.g. {@code core (10 rules)}
 * @param ours our path, operations per second ({@code NaN} when not applicable)
 * @param raw the raw path, operations per second ({@code NaN} when the case has no raw side)
 * @param target the ratio ours/raw the case must reach ({@code NaN} when it has none)
 * @param sent operations each side sent per measured round (total over rounds)
 * @param oursReceived what our side's receiver counted, over the measured rounds
 * @param rawReceived what the raw side's receiver counted ({@code -1} when there is no raw side)
 * @param ok whether the case met its target (and, without a target, its own check)
 * @param notes extra figures (latency percentiles, peak heap, policy counts), in insertion order
 */
public record Row(String name, double ours, double raw, double target, long sent, long oursReceived, long rawReceived,
    boolean ok, Map<String, Object> notes) {

  /** ours / raw, or {@code NaN}. */
  public double ratio() {
    return Double.isNaN(raw) || raw == 0 ? Double.NaN : ours / raw;
  }

  /** Whether both sides' receivers counted exactly what was sent. */
  public boolean countsMatch() {
    return oursReceived == sent && (rawReceived < 0 || rawReceived == sent);
  }

  /** A ratio row: ok when ours/raw reaches the target. */
  static Row ratio(String name, double ours, double raw, double target, long sent, long oursReceived, long rawReceived,
      Map<String, Object> notes) {
    double r = ours / raw;
    return new Row(name, ours, raw, target, sent, oursReceived, rawReceived, r >= target, new LinkedHashMap<>(notes));
  }
}

package dev.fraiseql.observers.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of the ratio table: our throughput, the raw client's throughput, the ratio of paired rounds
 * and the target, plus what each side sent and what its receiver counted (they must be equal).
 *
 * @param name case name, e.g. {@code core (10 rules)}
 * @param ours our path, operations per second, median over the rounds ({@code NaN} when not applicable)
 * @param raw the raw path, operations per second, median over the rounds ({@code NaN} when the case has no raw side)
 * @param ratio the median of the per-pair ratios ours/raw, each pair being our round and the raw round run
 *     next to it ({@code NaN} when the case has no raw side); not necessarily {@code ours / raw}
 * @param ratioMin the smallest per-pair ratio ({@code NaN} without a raw side)
 * @param ratioMax the largest per-pair ratio ({@code NaN} without a raw side)
 * @param pairs how many measured pairs the ratio is the median of (0 without a raw side)
 * @param target the ratio the case must reach ({@code NaN} when it has none)
 * @param sent operations each side sent per measured round (total over rounds)
 * @param oursReceived what our side's receiver counted, over the measured rounds
 * @param rawReceived what the raw side's receiver counted ({@code -1} when there is no raw side)
 * @param ok whether the case met its target (and, without a target, its own check)
 * @param notes extra figures (latency percentiles, peak heap, policy counts), in insertion order
 */
public record Row(String name, double ours, double raw, double ratio, double ratioMin, double ratioMax, int pairs,
    double target, long sent, long oursReceived, long rawReceived, boolean ok, Map<String, Object> notes) {

  /** Whether both sides' receivers counted exactly what was sent. */
  public boolean countsMatch() {
    return oursReceived == sent && (rawReceived < 0 || rawReceived == sent);
  }

  /** A ratio row from paired rounds: ok when the median per-pair ratio reaches the target. */
  static Row ratio(String name, Bench.Comparison c, double target, Map<String, Object> notes) {
    return new Row(name, c.ours(), c.raw(), c.ratio(), c.ratioMin(), c.ratioMax(), c.pairs(), target, c.sent(),
        c.oursReceived(), c.rawReceived(), c.ratio() >= target, new LinkedHashMap<>(notes));
  }

  /** A row without a raw side (its own check decides {@code ok}). */
  static Row single(String name, double ours, long sent, long received, boolean ok, Map<String, Object> notes) {
    return new Row(name, ours, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, Double.NaN, sent, received, -1, ok,
        new LinkedHashMap<>(notes));
  }
}

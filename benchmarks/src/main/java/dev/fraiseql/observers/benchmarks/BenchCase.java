package dev.fraiseql.observers.benchmarks;

import java.util.List;
import java.util.Optional;

/** One case of the ratio harness: runs our path and the raw path, returns table rows. */
interface BenchCase {

  /** The name used by {@code --case=}. */
  String name();

  /** Why the case cannot run here (module absent, server unreachable), or empty when it can. */
  Optional<String> unavailable();

  /** Runs the case; every row's counts must match what was sent. */
  List<Row> run(Options options) throws Exception;
}

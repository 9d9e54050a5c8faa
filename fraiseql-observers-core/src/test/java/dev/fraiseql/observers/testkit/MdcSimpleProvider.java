package dev.fraiseql.observers.testkit;

import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.simple.SimpleServiceProvider;
import org.slf4j.spi.MDCAdapter;

/**
 * slf4j-simple with a working MDC, for tests that assert what the engine puts in the MDC (slf4j-simple's
 * own MDC is a no-op). Chosen through SLF4J's documented {@code slf4j.provider} system property, which
 * core's surefire configuration sets.
 */
public final class MdcSimpleProvider extends SimpleServiceProvider {
  private final MDCAdapter mdc = new BasicMDCAdapter();

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }
}

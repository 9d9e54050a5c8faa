package dev.fraiseql.observers.webhook.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The per-endpoint slots: queueing without a length limit, dropping, the wait limit, no recursion. */
class EndpointLimiterTest {

  /** A task that records what happened to it; releases its permit only when told to. */
  static final class Probe extends EndpointLimiter.Task {
    final String name;
    final List<String> log;
    final boolean mayQueue;
    volatile long expiredAfterNanos = -1;

    Probe(String name, List<String> log, boolean mayQueue) {
      this.name = name;
      this.log = log;
      this.mayQueue = mayQueue;
    }

    @Override
    void start() {
      log.add("start " + name);
    }

    @Override
    boolean queued() {
      log.add("queued " + name);
      return mayQueue;
    }

    @Override
    void expired(long waitedNanos, int stillWaiting) {
      expiredAfterNanos = waitedNanos;
      log.add("expired " + name + " (" + stillWaiting + " still waiting)");
    }
  }

  @Test
  void aFullEndpointQueuesEveryTaskAndStartsThemInOrderAsSlotsFree() {
    List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
    EndpointLimiter l = new EndpointLimiter(2, 0);
    List<Probe> tasks = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      Probe p = new Probe("t" + i, log, true);
      tasks.add(p);
      l.submit(p);
    }
    assertThat(log).startsWith("start t0", "start t1", "queued t2");
    assertThat(l.queued()).as("no length limit: nothing refused").isEqualTo(9_998);
    assertThat(l.inFlight()).isEqualTo(2);
    for (int i = 0; i < 9_998; i++) {
      l.release();
    }
    assertThat(l.queued()).isZero();
    assertThat(log.stream().filter(s -> s.startsWith("start ")).count()).isEqualTo(10_000);
    assertThat(log.get(log.size() - 1)).isEqualTo("start t9999");
  }

  @Test
  void aDroppedTaskNeverStartsAndAStartedOneCannotBeDropped() {
    List<String> log = new CopyOnWriteArrayList<>();
    EndpointLimiter l = new EndpointLimiter(1, 0);
    Probe a = new Probe("a", log, true);
    Probe b = new Probe("b", log, true);
    Probe c = new Probe("c", log, true);
    l.submit(a);
    l.submit(b);
    l.submit(c);
    assertThat(l.drop(a)).as("started").isFalse();
    assertThat(l.drop(b)).isTrue();
    assertThat(l.drop(b)).isFalse();
    assertThat(l.queued()).isEqualTo(1);
    l.release();
    assertThat(log).containsExactly("start a", "queued b", "queued c", "start c");
  }

  @Test
  void aTaskThatMustNotWaitIsNeitherQueuedNorStarted() {
    List<String> log = new CopyOnWriteArrayList<>();
    EndpointLimiter l = new EndpointLimiter(1, 0);
    l.submit(new Probe("a", log, true));
    l.submit(new Probe("gone", log, false));
    l.release();
    assertThat(log).containsExactly("start a", "queued gone");
    assertThat(l.queued()).isZero();
    assertThat(l.inFlight()).isZero();
  }

  @Test
  void aTaskWaitingPastTheLimitLeavesUnstarted() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    EndpointLimiter l = new EndpointLimiter(1, TimeUnit.MILLISECONDS.toNanos(200));
    Probe a = new Probe("a", log, true);
    Probe b = new Probe("b", log, true);
    Probe c = new Probe("c", log, true);
    l.submit(a);
    l.submit(b);
    l.submit(c);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (c.expiredAfterNanos < 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(b.expiredAfterNanos).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
    assertThat(c.expiredAfterNanos).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
    assertThat(l.queued()).isZero();
    l.release(); // a's slot: nobody left to start
    assertThat(log).containsExactly("start a", "queued b", "queued c", "expired b (1 still waiting)",
        "expired c (0 still waiting)");
    assertThat(l.inFlight()).isZero();
  }

  @Test
  void tasksThatReleaseAtOnceDoNotRecurse() {
    EndpointLimiter l = new EndpointLimiter(1, 0);
    int[] started = new int[1];
    int[] depth = new int[1];
    int[] maxDepth = new int[1];
    List<EndpointLimiter.Task> tasks = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) {
      tasks.add(new EndpointLimiter.Task() {
        @Override
        void start() {
          started[0]++;
          depth[0]++;
          maxDepth[0] = Math.max(maxDepth[0], depth[0]);
          if (started[0] > 1) {
            l.release(); // failed before sending
          }
          depth[0]--;
        }

        @Override
        boolean queued() {
          return true;
        }

        @Override
        void expired(long waitedNanos, int stillWaiting) {
          throw new AssertionError("no limit");
        }
      });
    }
    tasks.forEach(l::submit);
    l.release(); // the first one's response
    assertThat(started[0]).isEqualTo(50_000);
    assertThat(maxDepth[0]).isEqualTo(1);
  }
}

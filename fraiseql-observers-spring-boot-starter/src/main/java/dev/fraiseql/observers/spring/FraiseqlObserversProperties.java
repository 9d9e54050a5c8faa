package dev.fraiseql.observers.spring;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** The {@code fraiseql.observers.*} properties. */
@ConfigurationProperties(prefix = "fraiseql.observers")
public class FraiseqlObserversProperties {
  /** Whether to build the observer engine at all. */
  private boolean enabled = true;
  /**
   * Where fraiseql.toml is: a Spring resource location such as {@code classpath:fraiseql.toml} or
   * {@code file:/etc/app/fraiseql.toml}.
   */
  private String config = "classpath:fraiseql.toml";
  /**
   * The name of an {@code java.util.concurrent.Executor} bean (a Spring {@code TaskExecutor}, e.g.
   * {@code applicationTaskExecutor}) the engine runs handlers on instead of its own pool. The engine
   * does not shut it down and is closed before it.
   */
  private String executor;
  /**
   * The name of a bean the engine schedules retries and timeouts on instead of its own scheduler: a
   * {@code ThreadPoolTaskScheduler} (its {@code ScheduledExecutorService} is used) or a
   * {@code ScheduledExecutorService}. Other {@code TaskScheduler}s are refused at start-up.
   */
  private String scheduler;
  private final Jpa jpa = new Jpa();
  private final Outbox outbox = new Outbox();
  private final Web web = new Web();
  private final Postgres postgres = new Postgres();
  private final Health health = new Health();
  private final Metrics metrics = new Metrics();
  private final Tracing tracing = new Tracing();

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getConfig() {
    return config;
  }

  public void setConfig(String config) {
    this.config = config;
  }

  public String getExecutor() {
    return executor;
  }

  public void setExecutor(String executor) {
    this.executor = executor;
  }

  public String getScheduler() {
    return scheduler;
  }

  public void setScheduler(String scheduler) {
    this.scheduler = scheduler;
  }

  public Jpa getJpa() {
    return jpa;
  }

  public Postgres getPostgres() {
    return postgres;
  }

  public Health getHealth() {
    return health;
  }

  public Metrics getMetrics() {
    return metrics;
  }

  public Tracing getTracing() {
    return tracing;
  }

  /** PostgreSQL trigger capture ({@code [observers.postgres] capture = "triggers"} in fraiseql.toml). */
  public static class Postgres {
    /**
     * Whether each transaction started during a web request gets the request's mutation context as
     * its {@code fraiseql.*} settings (user, tenant, request id, trace parent), so the capture
     * triggers put it into the events' context. Needs fraiseql-observers-pg; starts the outbox relay.
     */
    private boolean triggerContext = false;

    public boolean isTriggerContext() {
      return triggerContext;
    }

    public void setTriggerContext(boolean triggerContext) {
      this.triggerContext = triggerContext;
    }
  }

  /** The {@code observers} health indicator. */
  public static class Health {
    /** The relay is reported DOWN when its loop has not completed a cycle for this long. */
    private java.time.Duration relayStaleAfter = java.time.Duration.ofSeconds(30);
    /** Whether the health details include the outbox backlog (pending rows, age of the oldest): one query. */
    private boolean backlog = true;

    public java.time.Duration getRelayStaleAfter() {
      return relayStaleAfter;
    }

    public void setRelayStaleAfter(java.time.Duration relayStaleAfter) {
      this.relayStaleAfter = relayStaleAfter;
    }

    public boolean isBacklog() {
      return backlog;
    }

    public void setBacklog(boolean backlog) {
      this.backlog = backlog;
    }
  }

  /** Micrometer metrics (fraiseql-observers-micrometer and a MeterRegistry bean). */
  public static class Metrics {
    /** Whether the engine's metrics are bound to the application's MeterRegistry when both are present. */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  /** OpenTelemetry tracing (fraiseql-observers-opentelemetry and an OpenTelemetry bean). */
  public static class Tracing {
    /**
     * Whether deliveries are traced (a span per attempt) and published events carry the current
     * trace context when both are present.
     */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  public Outbox getOutbox() {
    return outbox;
  }

  public Web getWeb() {
    return web;
  }

  /** Capture of JPA entity changes from Hibernate's event listeners. */
  public static class Jpa {
    /** Whether entity inserts, updates and deletes become observer events (dispatched after commit). */
    private boolean capture = false;

    public boolean isCapture() {
      return capture;
    }

    public void setCapture(boolean capture) {
      this.capture = capture;
    }
  }

  /** The transactional outbox (needs fraiseql-observers-pg and a PostgreSQL DataSource). */
  public static class Outbox {
    /**
     * Whether events published inside a transaction are written to the outbox table on the
     * transaction's connection instead of being dispatched after commit; a relay then dispatches them.
     */
    private boolean enabled = false;
    /** The outbox table. */
    private String table = "observer_outbox";
    /** Whether this application runs a relay that dispatches the outbox's rows through its engine. */
    private boolean relay = true;
    /** Whether the relay creates the outbox table when it is missing. */
    private boolean createTable = true;

    public boolean isRelay() {
      return relay;
    }

    public void setRelay(boolean relay) {
      this.relay = relay;
    }

    public boolean isCreateTable() {
      return createTable;
    }

    public void setCreateTable(boolean createTable) {
      this.createTable = createTable;
    }

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getTable() {
      return table;
    }

    public void setTable(String table) {
      this.table = table;
    }
  }

  /** The mutation context taken from each servlet request. */
  public static class Web {
    /** Whether a servlet filter builds each request's mutation context and applies synchronous warnings. */
    private boolean enabled = true;
    /** The request header that carries the tenant id. */
    private String tenantHeader = "X-Tenant-Id";
    /** The request header that carries the request id; one is generated when absent. */
    private String requestIdHeader = "X-Request-Id";
    /**
     * The claim of the authenticated principal that carries the tenant id, used when the tenant header
     * is absent: a JWT claim (Spring Security's {@code Jwt}, any {@code ClaimAccessor}) or an OAuth2
     * principal's attribute. Needs spring-security-oauth2-core.
     */
    private String tenantClaim;

    public String getTenantClaim() {
      return tenantClaim;
    }

    public void setTenantClaim(String tenantClaim) {
      this.tenantClaim = tenantClaim;
    }

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getTenantHeader() {
      return tenantHeader;
    }

    public void setTenantHeader(String tenantHeader) {
      this.tenantHeader = tenantHeader;
    }

    public String getRequestIdHeader() {
      return requestIdHeader;
    }

    public void setRequestIdHeader(String requestIdHeader) {
      this.requestIdHeader = requestIdHeader;
    }
  }
}

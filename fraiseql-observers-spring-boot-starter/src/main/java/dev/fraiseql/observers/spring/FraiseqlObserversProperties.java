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
  private final Jpa jpa = new Jpa();
  private final Outbox outbox = new Outbox();
  private final Web web = new Web();

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

  public Jpa getJpa() {
    return jpa;
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

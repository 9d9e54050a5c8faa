package dev.fraiseql.observers.webhook.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Where a handler may send requests.
 *
 * <ul>
 *   <li>Always refused, in every mode: cloud metadata services ({@code 169.254.169.254},
 *       {@code 169.254.170.2}, {@code 100.100.100.200}, {@code fd00:ec2::254}, the names
 *       {@code metadata.google.internal}, {@code metadata.goog}, {@code instance-data(.ec2.internal)},
 *       and any name that resolves to one of those addresses, IPv4-mapped and NAT64 forms included).
 *   <li>{@link Mode#STRICT} (opt-in, for URLs that come from tenants) also refuses every address
 *       that is not public unicast: loopback, private (RFC 1918), shared (100.64/10), link-local,
 *       unique-local (fc00::/7), site-local, multicast, unspecified, broadcast, documentation and
 *       benchmarking ranges, and reserved 240/4.
 * </ul>
 *
 * The check runs against every address the host name resolves to, on every attempt.
 */
public final class EgressPolicy {

  /** The egress modes ({@code egress = "default" | "strict"}). */
  public enum Mode {
    DEFAULT("default"),
    STRICT("strict");

    private final String configName;

    Mode(String configName) {
      this.configName = configName;
    }

    public String configName() {
      return configName;
    }

    static Optional<Mode> parse(String s) {
      for (Mode m : values()) {
        if (m.configName.equalsIgnoreCase(s.trim())) {
          return Optional.of(m);
        }
      }
      return Optional.empty();
    }
  }

  private static final Set<String> METADATA_NAMES = Set.of("metadata.google.internal", "metadata.goog",
      "metadata", "instance-data", "instance-data.ec2.internal");

  /** Resolves host names; replaceable so that tests can simulate DNS answers. */
  @FunctionalInterface
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  private final Mode mode;
  private final Resolver resolver;

  EgressPolicy(Mode mode) {
    this(mode, InetAddress::getAllByName);
  }

  EgressPolicy(Mode mode, Resolver resolver) {
    this.mode = mode;
    this.resolver = resolver;
  }

  Mode mode() {
    return mode;
  }

  /**
   * Why {@code host} may not be contacted, or empty when it may.
   *
   * @throws UnknownHostException when the name does not resolve (a transient condition)
   */
  Optional<String> check(String host) throws UnknownHostException {
    String h = normalizeHost(host);
    if (METADATA_NAMES.contains(h)) {
      return Optional.of(host + " is a cloud metadata service, always refused");
    }
    InetAddress[] addresses = resolver.resolve(h);
    for (InetAddress a : addresses) {
      Optional<String> why = refusal(a);
      if (why.isPresent()) {
        return Optional.of(isLiteral(h) ? why.get() : host + " resolves to " + why.get());
      }
    }
    return Optional.empty();
  }

  /**
   * A check that needs no DNS: the metadata names and, for literal addresses, the address itself.
   * Used when the handler is created, so that an impossible URL fails at load time.
   */
  Optional<String> checkWithoutDns(String host) {
    String h = normalizeHost(host);
    if (METADATA_NAMES.contains(h)) {
      return Optional.of(host + " is a cloud metadata service, always refused");
    }
    if (isLiteral(h)) {
      try {
        return refusal(InetAddress.getByName(h));
      } catch (UnknownHostException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static String normalizeHost(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  private static boolean isLiteral(String h) {
    return h.indexOf(':') >= 0 || h.matches("[0-9.]+");
  }

  /** Why this address is refused under this policy, or empty. */
  Optional<String> refusal(InetAddress address) {
    InetAddress a = embeddedIpv4(address);
    String text = a.getHostAddress();
    if (isMetadata(a)) {
      return Optional.of(text + ", a cloud metadata address, always refused");
    }
    if (mode != Mode.STRICT) {
      return Optional.empty();
    }
    String kind = nonPublicKind(a);
    return kind == null ? Optional.empty()
        : Optional.of(text + " (" + kind + "), not allowed under egress = \"strict\"");
  }

  private static boolean isMetadata(InetAddress a) {
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int v = ipv4(b);
      return v == ipv4(169, 254, 169, 254) || v == ipv4(169, 254, 170, 2) || v == ipv4(100, 100, 100, 200);
    }
    // fd00:ec2::254
    byte[] ec2 = {(byte) 0xfd, 0x00, 0x0e, (byte) 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
    return java.util.Arrays.equals(b, ec2);
  }

  /** IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) as IPv4. */
  private static InetAddress embeddedIpv4(InetAddress a) {
    if (!(a instanceof Inet6Address)) {
      return a;
    }
    byte[] b = a.getAddress();
    boolean firstTenZero = true;
    for (int i = 0; i < 10; i++) {
      firstTenZero &= b[i] == 0;
    }
    boolean mapped = firstTenZero && b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    boolean compatible = firstTenZero && b[10] == 0 && b[11] == 0 && (b[12] | b[13] | b[14]) != 0;
    boolean nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == (byte) 0xff && b[3] == (byte) 0x9b;
    for (int i = 4; nat64 && i < 12; i++) {
      nat64 = b[i] == 0;
    }
    if (mapped || compatible || nat64) {
      try {
        return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
      } catch (UnknownHostException e) {
        return a;
      }
    }
    return a;
  }

  private static String nonPublicKind(InetAddress a) {
    if (a.isAnyLocalAddress()) {
      return "unspecified";
    }
    if (a.isLoopbackAddress()) {
      return "loopback";
    }
    if (a.isLinkLocalAddress()) {
      return "link-local";
    }
    if (a.isMulticastAddress()) {
      return "multicast";
    }
    if (a.isSiteLocalAddress()) {
      return a instanceof Inet4Address ? "private" : "site-local";
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int v = ipv4(b);
      if (in(v, ipv4(0, 0, 0, 0), 8)) {
        return "this-network";
      }
      if (in(v, ipv4(100, 64, 0, 0), 10)) {
        return "shared address space";
      }
      if (in(v, ipv4(192, 0, 0, 0), 24)) {
        return "IETF protocol assignment";
      }
      if (in(v, ipv4(192, 0, 2, 0), 24) || in(v, ipv4(198, 51, 100, 0), 24) || in(v, ipv4(203, 0, 113, 0), 24)) {
        return "documentation";
      }
      if (in(v, ipv4(198, 18, 0, 0), 15)) {
        return "benchmarking";
      }
      if (in(v, ipv4(240, 0, 0, 0), 4)) {
        return v == -1 ? "broadcast" : "reserved";
      }
      return null;
    }
    int first = b[0] & 0xff;
    if ((first & 0xfe) == 0xfc) {
      return "unique-local";
    }
    if (first == 0x20 && (b[1] & 0xff) == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8) {
      return "documentation";
    }
    if (first == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0) {
      return "discard-only";
    }
    boolean allZeroButLast = true;
    for (int i = 0; i < 15; i++) {
      allZeroButLast &= b[i] == 0;
    }
    if (allZeroButLast) {
      return "reserved";
    }
    return null;
  }

  private static int ipv4(byte[] b) {
    return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
  }

  private static int ipv4(int a, int b, int c, int d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
  }

  private static boolean in(int v, int network, int prefix) {
    int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
    return (v & mask) == (network & mask);
  }
}

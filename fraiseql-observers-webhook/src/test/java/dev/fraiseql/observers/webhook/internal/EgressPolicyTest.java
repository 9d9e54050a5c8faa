package dev.fraiseql.observers.webhook.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EgressPolicyTest {

  /** DNS answers chosen by the test, as a rebinding or misconfigured resolver might give them. */
  private static EgressPolicy.Resolver dns(Map<String, String> answers) {
    return host -> {
      String a = answers.get(host);
      if (a == null) {
        throw new UnknownHostException(host);
      }
      return new InetAddress[] {InetAddress.getByName(a)};
    };
  }

  @Test
  void namesResolvingToMetadataAreRefusedInEveryMode() throws Exception {
    EgressPolicy p = new EgressPolicy(EgressPolicy.Mode.DEFAULT,
        dns(Map.of("evil.example", "169.254.169.254", "evil6.example", "fd00:ec2::254", "ok.example", "93.184.216.34",
            "mapped.example", "::ffff:169.254.169.254", "nat64.example", "64:ff9b::a9fe:a9fe")));
    assertThat(p.check("evil.example")).hasValueSatisfying(s -> assertThat(s).contains("metadata"));
    assertThat(p.check("evil6.example")).hasValueSatisfying(s -> assertThat(s).contains("metadata"));
    assertThat(p.check("mapped.example")).hasValueSatisfying(s -> assertThat(s).contains("metadata"));
    assertThat(p.check("nat64.example")).hasValueSatisfying(s -> assertThat(s).contains("metadata"));
    assertThat(p.check("metadata.google.internal")).hasValueSatisfying(s -> assertThat(s).contains("metadata"));
    assertThat(p.check("METADATA.GOOGLE.INTERNAL.")).isPresent();
    assertThat(p.check("ok.example")).isEmpty();
    assertThatThrownBy(() -> p.check("nowhere.example")).isInstanceOf(UnknownHostException.class);
  }

  @Test
  void strictRefusesNonPublicRanges() throws Exception {
    EgressPolicy strict = new EgressPolicy(EgressPolicy.Mode.STRICT);
    EgressPolicy open = new EgressPolicy(EgressPolicy.Mode.DEFAULT);
    for (String a : new String[] {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.10.1", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1", "240.0.0.1", "::1", "::", "fe80::1",
        "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1", "::ffff:10.0.0.1", "64:ff9b::7f00:1"}) {
      InetAddress addr = InetAddress.getByName(a);
      assertThat(strict.refusal(addr)).as(a).isPresent();
      assertThat(open.refusal(addr)).as(a).isEmpty();
    }
    for (String a : new String[] {"93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"}) {
      assertThat(strict.refusal(InetAddress.getByName(a))).as(a).isEmpty();
    }
  }

  @Test
  void strictChecksEveryResolvedAddress() throws Exception {
    EgressPolicy p = new EgressPolicy(EgressPolicy.Mode.STRICT, host -> new InetAddress[] {
        InetAddress.getByName("93.184.216.34"), InetAddress.getByName("10.0.0.5")});
    assertThat(p.check("mixed.example")).hasValueSatisfying(s ->
        assertThat(s).isEqualTo("mixed.example resolves to 10.0.0.5 (private), not allowed under egress = \"strict\""));
  }

  @Test
  void literalsAreCheckedWithoutDns() {
    assertThat(new EgressPolicy(EgressPolicy.Mode.DEFAULT).checkWithoutDns("169.254.169.254")).isPresent();
    assertThat(new EgressPolicy(EgressPolicy.Mode.DEFAULT).checkWithoutDns("[fd00:ec2::254]")).isPresent();
    assertThat(new EgressPolicy(EgressPolicy.Mode.DEFAULT).checkWithoutDns("127.0.0.1")).isEmpty();
    assertThat(new EgressPolicy(EgressPolicy.Mode.STRICT).checkWithoutDns("127.0.0.1")).isPresent();
    assertThat(new EgressPolicy(EgressPolicy.Mode.STRICT).checkWithoutDns("hooks.example.com")).isEmpty();
  }
}

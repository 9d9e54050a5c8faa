package dev.fraiseql.observers.webhook.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Adds signature headers to one request. Each signer holds one or more secrets (the first is the
 * current one; the others are kept during a rotation) and signs with all of them, so a receiver that
 * knows any of them can verify. Never prints its secrets.
 */
abstract class Signer {
  static final String STANDARD_ID = "webhook-id";
  static final String STANDARD_TIMESTAMP = "webhook-timestamp";
  static final String STANDARD_SIGNATURE = "webhook-signature";
  static final String FRAISEQL_SIGNATURE = "X-FraiseQL-Signature-256";

  private final List<SecretKeySpec> keys;

  private Signer(List<byte[]> secrets) {
    List<SecretKeySpec> k = new ArrayList<>();
    for (byte[] s : secrets) {
      k.add(new SecretKeySpec(s, "HmacSHA256"));
    }
    this.keys = List.copyOf(k);
  }

  /** The scheme's name in {@code signing = "..."}. */
  abstract String scheme();

  /** The names of the headers this signer sets (reserved: user headers may not use them). */
  abstract List<String> headerNames();

  /**
   * Adds the signature headers for {@code body}, sent as message {@code messageId} at
   * {@code unixSeconds}, to {@code headers}.
   */
  abstract void sign(String messageId, long unixSeconds, byte[] body, Map<String, String> headers);

  /** The headers {@link #sign} writes whose values a preview masks. */
  static final java.util.Set<String> SIGNATURE_HEADERS = java.util.Set.of(STANDARD_SIGNATURE, FRAISEQL_SIGNATURE);

  final List<byte[]> macs(byte[] prefix, byte[] body) {
    List<byte[]> out = new ArrayList<>(keys.size());
    for (SecretKeySpec key : keys) {
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(key);
        mac.update(prefix);
        mac.update(body);
        out.add(mac.doFinal());
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
      }
    }
    return out;
  }

  @Override
  public final String toString() {
    return "Signer{" + scheme() + ", " + keys.size() + " secret(s)}";
  }

  /**
   * <a href="https://www.standardwebhooks.com/">Standard Webhooks</a>: {@code webhook-id},
   * {@code webhook-timestamp} and {@code webhook-signature: v1,<base64 HMAC-SHA256(key, id.timestamp.body)>}
   * (space-separated, one per secret); secrets are {@code whsec_<base64 key>}.
   */
  static final class StandardWebhooks extends Signer {
    StandardWebhooks(List<byte[]> keys) {
      super(keys);
    }

    /** Decodes a {@code whsec_<base64>} secret (the prefix is optional); throws IllegalArgumentException if not base64. */
    static byte[] decodeSecret(String secret) {
      String s = secret.trim();
      if (s.startsWith("whsec_")) {
        s = s.substring("whsec_".length());
      }
      byte[] key = Base64.getDecoder().decode(s);
      if (key.length == 0) {
        throw new IllegalArgumentException("empty key");
      }
      return key;
    }

    @Override
    String scheme() {
      return "standard-webhooks";
    }

    @Override
    List<String> headerNames() {
      return List.of(STANDARD_ID, STANDARD_TIMESTAMP, STANDARD_SIGNATURE);
    }

    @Override
    void sign(String messageId, long unixSeconds, byte[] body, Map<String, String> headers) {
      byte[] prefix = (messageId + "." + unixSeconds + ".").getBytes(StandardCharsets.UTF_8);
      StringBuilder sig = new StringBuilder();
      for (byte[] mac : macs(prefix, body)) {
        if (sig.length() > 0) {
          sig.append(' ');
        }
        sig.append("v1,").append(Base64.getEncoder().encodeToString(mac));
      }
      headers.put(STANDARD_ID, messageId);
      headers.put(STANDARD_TIMESTAMP, Long.toString(unixSeconds));
      headers.put(STANDARD_SIGNATURE, sig.toString());
    }
  }

  /**
   * FraiseQL's (Stripe-style) scheme: {@code X-FraiseQL-Signature-256: t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>}
   * with one {@code v1=} per secret; the secret's UTF-8 bytes are the key.
   */
  static final class Fraiseql extends Signer {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    Fraiseql(List<byte[]> keys) {
      super(keys);
    }

    @Override
    String scheme() {
      return "fraiseql";
    }

    @Override
    List<String> headerNames() {
      return List.of(FRAISEQL_SIGNATURE);
    }

    @Override
    void sign(String messageId, long unixSeconds, byte[] body, Map<String, String> headers) {
      byte[] prefix = (unixSeconds + ".").getBytes(StandardCharsets.UTF_8);
      StringBuilder sig = new StringBuilder("t=").append(unixSeconds);
      for (byte[] mac : macs(prefix, body)) {
        sig.append(",v1=");
        for (byte b : mac) {
          sig.append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
        }
      }
      headers.put(FRAISEQL_SIGNATURE, sig.toString());
    }
  }
}

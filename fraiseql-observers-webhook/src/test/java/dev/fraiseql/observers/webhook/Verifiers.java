package dev.fraiseql.observers.webhook;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Receiver-side signature checks written from the specifications, independently of the library's
 * signer (no shared code), as a receiver would write them.
 */
final class Verifiers {
  private Verifiers() {}

  private static byte[] hmac(byte[] key, byte[] data) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data);
  }

  /**
   * Standard Webhooks (standardwebhooks.com, "Verifying webhooks"): signed content is
   * {@code msg_id + "." + timestamp + "." + body}; the key is the base64 part of {@code whsec_...};
   * {@code webhook-signature} is a space-delimited list of {@code v1,<base64>}; accept if any matches
   * and the timestamp is within tolerance.
   */
  static boolean standardWebhooks(String secret, String id, String timestamp, String signatureHeader, byte[] body,
      long nowSeconds) throws Exception {
    if (Math.abs(nowSeconds - Long.parseLong(timestamp)) > 300) {
      return false;
    }
    byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
    byte[] signed = (id + "." + timestamp + "." + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
    String expected = Base64.getEncoder().encodeToString(hmac(key, signed));
    for (String part : signatureHeader.split(" ")) {
      String[] vs = part.split(",", 2);
      if (vs.length == 2 && vs[0].equals("v1")
          && MessageDigest.isEqual(vs[1].getBytes(StandardCharsets.US_ASCII), expected.getBytes(StandardCharsets.US_ASCII))) {
        return true;
      }
    }
    return false;
  }

  /**
   * FraiseQL / Stripe scheme: header {@code t=<unix>,v1=<hex>[,v1=<hex>]}; signed payload is
   * {@code t + "." + body}; key is the secret's UTF-8 bytes.
   */
  static boolean fraiseql(String secret, String header, byte[] body, long nowSeconds) throws Exception {
    String t = null;
    java.util.List<String> sigs = new java.util.ArrayList<>();
    for (String item : header.split(",")) {
      String[] kv = item.split("=", 2);
      if (kv[0].equals("t")) {
        t = kv[1];
      } else if (kv[0].equals("v1")) {
        sigs.add(kv[1]);
      }
    }
    if (t == null || Math.abs(nowSeconds - Long.parseLong(t)) > 300) {
      return false;
    }
    byte[] payload = (t + "." + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
    byte[] mac = hmac(secret.getBytes(StandardCharsets.UTF_8), payload);
    StringBuilder hex = new StringBuilder();
    for (byte b : mac) {
      hex.append(String.format("%02x", b));
    }
    for (String s : sigs) {
      if (MessageDigest.isEqual(s.getBytes(StandardCharsets.US_ASCII), hex.toString().getBytes(StandardCharsets.US_ASCII))) {
        return true;
      }
    }
    return false;
  }
}

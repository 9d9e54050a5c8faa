package dev.fraiseql.observers.email.internal;

import dev.fraiseql.observers.spi.ActionResult;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.MessagingException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;

/**
 * Turns what Jakarta Mail threw into an {@link ActionResult}, as the webhook action judges HTTP statuses:
 * <ul>
 *   <li>an SMTP 4xx reply (to MAIL FROM, any RCPT TO, DATA, the end of the message, AUTH or the greeting),
 *       a connection error, a timeout or a TLS failure: {@link ActionResult.Retry};
 *   <li>SMTP 5xx replies only: {@link ActionResult.Failed} (permanent, dead-lettered), its detail carrying
 *       the server's reply text: {@code SMTP 550 5.1.1 <x@example.com>: no such user (RCPT TO)};
 *   <li>STARTTLS required but not offered by the server: {@link ActionResult.Failed}.
 * </ul>
 * Every detail is one line, at most {@value #MAX_REPLY} characters of reply text each, with the handler's
 * secrets scrubbed.
 */
final class SmtpOutcome {
  static final int MAX_REPLY = 300;
  private static final Pattern LEADING_CODE = Pattern.compile("^\\s*([2-5]\\d\\d)[\\s-]");
  private static final Pattern GREETING_CODE = Pattern.compile("response:\\s*\\[?([2-5]\\d\\d)");

  private SmtpOutcome() {}

  /** One SMTP reply found in the exception chain. */
  record Reply(int code, String command, String text) {}

  static ActionResult judge(MessagingException e, String server, Scrubber scrubber) {
    List<Reply> replies = replies(e);
    if (!replies.isEmpty()) {
      boolean transientReply = replies.stream().anyMatch(r -> r.code() >= 400 && r.code() < 500);
      List<String> parts = new ArrayList<>();
      for (Reply r : replies) {
        String part = "SMTP " + r.code() + " " + oneLine(r.text(), scrubber)
            + (r.command() == null || r.command().isEmpty() ? ""
                : " (" + (r.command().equals(".") ? "end of DATA" : oneLine(r.command(), scrubber)) + ")");
        if (!parts.contains(part)) {
          parts.add(part);
        }
      }
      String detail = String.join("; ", parts);
      boolean permanent = !transientReply && replies.stream().allMatch(r -> r.code() >= 500);
      return permanent ? ActionResult.failed(detail) : ActionResult.retry(detail);
    }
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (message.contains("STARTTLS is required")) {
      return ActionResult.failed(server + " does not offer STARTTLS, which starttls = \"required\" demands");
    }
    Throwable io = find(e, IOException.class);
    if (io instanceof UnknownHostException) {
      return ActionResult.retry("cannot resolve the SMTP host of " + server);
    }
    if (io instanceof ConnectException) {
      return ActionResult.retry("connection refused by " + server);
    }
    if (io instanceof SocketTimeoutException) {
      return ActionResult.retry("timeout talking to " + server + " (" + oneLine(io.getMessage(), scrubber) + ")");
    }
    if (io instanceof SSLException) {
      return ActionResult.retry("TLS failure with " + server + ": " + io.getClass().getSimpleName()
          + " (" + oneLine(io.getMessage(), scrubber) + ")");
    }
    if (io != null) {
      return ActionResult.retry("I/O error talking to " + server + ": " + io.getClass().getSimpleName()
          + (io.getMessage() == null ? "" : " (" + oneLine(io.getMessage(), scrubber) + ")"));
    }
    return ActionResult.retry("mail error with " + server + ": " + e.getClass().getSimpleName()
        + (message.isEmpty() ? "" : " (" + oneLine(message, scrubber) + ")"));
  }

  /** Every SMTP reply in the chain: the exception, its causes and its next exceptions. */
  static List<Reply> replies(MessagingException top) {
    List<Reply> out = new ArrayList<>();
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    List<Throwable> todo = new ArrayList<>();
    todo.add(top);
    while (!todo.isEmpty() && seen.size() < 64) {
      Throwable t = todo.remove(0);
      if (t == null || seen.put(t, Boolean.TRUE) != null) {
        continue;
      }
      if (t instanceof SMTPAddressFailedException) {
        SMTPAddressFailedException a = (SMTPAddressFailedException) t;
        out.add(new Reply(a.getReturnCode(), a.getCommand(), replyText(a.getMessage())));
      } else if (t instanceof SMTPSenderFailedException) {
        SMTPSenderFailedException s = (SMTPSenderFailedException) t;
        out.add(new Reply(s.getReturnCode(), s.getCommand(), replyText(s.getMessage())));
      } else if (t instanceof SMTPSendFailedException) {
        SMTPSendFailedException s = (SMTPSendFailedException) t;
        if (s.getReturnCode() >= 400) {
          out.add(new Reply(s.getReturnCode(), s.getCommand(), replyText(s.getMessage())));
        }
      } else if (t instanceof AuthenticationFailedException) {
        Integer code = code(LEADING_CODE, t.getMessage());
        if (code != null) {
          out.add(new Reply(code, "AUTH", replyText(t.getMessage())));
        }
      } else if (t instanceof MessagingException && t.getMessage() != null
          && t.getMessage().startsWith("Got bad greeting")) {
        Integer code = code(GREETING_CODE, t.getMessage());
        if (code != null) {
          String m = t.getMessage();
          out.add(new Reply(code, "greeting", replyText(m.substring(m.indexOf("response:") + 9))));
        }
      }
      if (t instanceof MessagingException) {
        todo.add(((MessagingException) t).getNextException());
      }
      todo.add(t.getCause());
    }
    return out;
  }

  private static Integer code(Pattern p, String text) {
    if (text == null) {
      return null;
    }
    Matcher m = p.matcher(text);
    return m.find() ? Integer.valueOf(m.group(1)) : null;
  }

  /** The reply without its leading code ({@code 550 5.1.1 no such user} becomes {@code 5.1.1 no such user}). */
  private static String replyText(String message) {
    if (message == null) {
      return "";
    }
    String s = message.strip();
    if (s.startsWith("[")) {
      s = s.substring(1);
    }
    Matcher m = LEADING_CODE.matcher(s);
    return m.find() ? s.substring(m.end()).strip() : s;
  }

  /** Printable, one line, bounded, secrets removed. */
  static String oneLine(String text, Scrubber scrubber) {
    if (text == null) {
      return "";
    }
    String s = scrubber.scrub(MailTemplate.oneLine(text)).replaceAll("\\s{2,}", " ");
    return s.length() > MAX_REPLY ? s.substring(0, MAX_REPLY) + "…" : s;
  }

  private static Throwable find(Throwable top, Class<? extends Throwable> type) {
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    List<Throwable> todo = new ArrayList<>();
    todo.add(top);
    while (!todo.isEmpty() && seen.size() < 64) {
      Throwable t = todo.remove(0);
      if (t == null || seen.put(t, Boolean.TRUE) != null) {
        continue;
      }
      if (type.isInstance(t)) {
        return t;
      }
      if (t instanceof MessagingException) {
        todo.add(((MessagingException) t).getNextException());
      }
      todo.add(t.getCause());
    }
    return null;
  }
}

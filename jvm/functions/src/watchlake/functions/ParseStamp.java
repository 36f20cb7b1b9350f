package watchlake.functions;

import java.time.DateTimeException;
import java.time.LocalDate;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark SQL function {@code watchlake_parse_stamp(string) -> bigint}: a CASAS stamp {@code yyyy-MM-dd
 * HH:mm:ss.f} with 1 to 6 fractional digits, as microseconds since the epoch of that wall time read in UTC
 * (the sessions run in UTC); null for anything else, including impossible dates and times.
 *
 * <p>The same grammar as {@code try_to_timestamp(s, 'yyyy-MM-dd HH:mm:ss.SSSSSS')}, at a fraction of the cost of
 * a {@code DateTimeFormatter} per row (the stamp was 9 % of the clean job's CPU with the formatter).
 */
public final class ParseStamp implements UDF1<String, Long> {
  private static final long serialVersionUID = 1L;
  private static final int SHORTEST = "yyyy-MM-dd HH:mm:ss.f".length();
  private static final int LONGEST = "yyyy-MM-dd HH:mm:ss.ffffff".length();
  private static final long[] FRACTION_SCALE = {0, 100_000, 10_000, 1_000, 100, 10, 1};

  @Override
  public Long call(String text) {
    if (text == null || text.length() < SHORTEST || text.length() > LONGEST) {
      return null;
    }
    if (text.charAt(4) != '-' || text.charAt(7) != '-' || text.charAt(10) != ' ' || text.charAt(13) != ':'
        || text.charAt(16) != ':' || text.charAt(19) != '.') {
      return null;
    }
    int year = digits(text, 0, 4);
    int month = digits(text, 5, 7);
    int day = digits(text, 8, 10);
    int hour = digits(text, 11, 13);
    int minute = digits(text, 14, 16);
    int second = digits(text, 17, 19);
    int fraction = digits(text, 20, text.length());
    if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
        || second > 59 || fraction < 0) {
      return null;
    }
    long epochDay;
    try {
      epochDay = LocalDate.of(year, month, day).toEpochDay();
    } catch (DateTimeException impossibleDate) {
      return null;
    }
    long seconds = ((epochDay * 24 + hour) * 60 + minute) * 60 + second;
    return seconds * 1_000_000L + fraction * FRACTION_SCALE[text.length() - 20];
  }

  /** The non-negative number written by the ASCII digits text[from, to), or -1 if any of them is not a digit. */
  private static int digits(String text, int from, int to) {
    int value = 0;
    for (int i = from; i < to; i++) {
      int digit = text.charAt(i) - '0';
      if (digit < 0 || digit > 9) {
        return -1;
      }
      value = value * 10 + digit;
    }
    return value;
  }
}

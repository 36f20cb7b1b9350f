package watchlake.functions;

import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.expressions.codegen.UnsafeRowWriter;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * One CASAS data line split into its fields, then either judged by the clean job's reject rules ({@link #reason})
 * or typed ({@link #parse}): the work of {@link ParseCasasLine}. One parser per thread (it keeps its buffers).
 *
 * <p>The split: a line without a double quote is split at every comma, keeping empty fields; a line with one is
 * split by {@link #FIELD_PATTERN} (every match in turn, its group 1, as {@code regexp_extract_all} does), its quoted
 * fields keeping their quotes until a string field drops them (so a quoted number or stamp does not parse). Quoted
 * fields that span lines are not supported (their pieces get a wrong field count).
 *
 * <p>Typed, a line is a row of its field count, one value per CASAS field in file order, then its reason. The
 * values: the stamp as microseconds since the epoch ({@link ParseStamp}'s grammar), floats as doubles ({@link
 * ParseDouble}'s, what {@code try_cast(.. AS DOUBLE)} accepts), strings without their CSV quotes (doubled quotes
 * made single); null when the field is missing, empty or does not parse.
 *
 * <p>An ASCII line (every CASAS line) is widened to chars in place and its strings are copied as bytes, with no Java
 * string made; any other line is decoded first.
 */
public final class CasasLineParser {
  /** The quote-aware field pattern, equal to {@code clean.transforms.FIELD_PATTERN} (a test checks). */
  public static final String FIELD_PATTERN = "(?:^|,)(\"(?:[^\"]|\"\")*\"|[^,]*)";
  /** The CASAS field types in file order, equal to {@code casas.format.TYPES_LINE} (a test checks). */
  public static final String TYPES_LINE = "dt,f,f,f,f,f,f,f,f,f,s,f,f,f,f,f,f,f,s,s";
  /** The reject reasons in the order they are checked, equal to {@code schemas.REJECT_REASONS} (a test checks). */
  public static final List<String> REJECT_REASONS =
      List.of(
          "wrong_field_count",
          "unparseable_stamp",
          "missing_motion",
          "unparseable_number",
          "invalid_battery_state",
          "charging",
          "full");
  /** The battery states a kept line may have besides none, equal to {@code schemas.BATTERY_STATES}. */
  public static final List<String> BATTERY_STATES = List.of("unplugged", "charging", "full", "unknown");
  /** Field indexes: the nine motion fields ({@code schemas.MOTION_FIELDS}) and the battery state. */
  public static final int FIRST_MOTION_FIELD = 1;
  public static final int LAST_MOTION_FIELD = 9;
  public static final int BATTERY_FIELD = 18;

  private static final Pattern QUOTE_AWARE = Pattern.compile(FIELD_PATTERN);
  private static final char[] TYPES = typeLetters(TYPES_LINE);
  private static final UTF8String[] REASONS =
      REJECT_REASONS.stream().map(UTF8String::fromString).toArray(UTF8String[]::new);
  private static final byte[][] STATE_BYTES =
      BATTERY_STATES.stream().map(state -> state.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
  private static final int NO_STATE = -2;
  private static final int STATE_UNPLUGGED = 0;
  private static final int STATE_CHARGING = 1;
  private static final int STATE_FULL = 2;
  private static final int STATE_UNKNOWN = 3;
  private static final int WRONG_FIELD_COUNT = 0;
  private static final int UNPARSEABLE_STAMP = 1;
  private static final int MISSING_MOTION = 2;
  private static final int UNPARSEABLE_NUMBER = 3;
  private static final int INVALID_BATTERY_STATE = 4;
  private static final int CHARGING = 5;
  private static final int FULL = 6;

  /** The typed row: the field count, the fields, the reason. */
  private static final int REASON_ORDINAL = 1 + TYPES.length;

  private final UnsafeRowWriter row = new UnsafeRowWriter(REASON_ORDINAL + 1, 64);
  private final int[] starts = new int[TYPES.length];
  private final int[] ends = new int[TYPES.length];
  private byte[] bytes = new byte[256];
  private char[] chars = new char[256];
  /** The current line: as chars, as UTF-8 bytes when it is ASCII (else null), how many fields it has. */
  private char[] text;
  private byte[] utf8;
  private int fieldCount;

  /** The typed fields of {@code line} and its {@link #reason}, a row of its own (the caller may keep it). */
  public UnsafeRow parse(UTF8String line) {
    split(line);
    row.reset();
    row.zeroOutNullBytes();
    row.write(0, fieldCount);
    boolean badNumber = false;
    for (int index = 0; index < TYPES.length; index++) {
      if (!(index < fieldCount && store(index))) {
        row.setNullAt(1 + index);
        badNumber |= TYPES[index] == 'f' && index < fieldCount && starts[index] < ends[index];
      }
    }
    UTF8String reason = judge(!row.isNullAt(1), badNumber);
    if (reason == null) {
      row.setNullAt(REASON_ORDINAL);
    } else {
      row.write(REASON_ORDINAL, reason);
    }
    return row.getRow().copy();
  }

  /**
   * The first of {@link #REJECT_REASONS} that applies to {@code line}, null for a line to keep: a wrong field
   * count; a stamp that does not parse; an empty motion field; a float field that is not empty and does not parse;
   * a battery state other than none or one of {@link #BATTERY_STATES}; then {@code charging} and {@code full} (on
   * the charger: not wear time). {@code unknown} (battery monitoring off) and none are kept. The same answer as the
   * reason {@link #parse} gives, found without computing the values of most numbers.
   */
  public UTF8String reason(UTF8String line) {
    split(line);
    if (fieldCount != TYPES.length) { // before the checks below: bounds past fieldCount are the last line's
      return REASONS[WRONG_FIELD_COUNT];
    }
    boolean stampParses =
        starts[0] < ends[0] && ParseStamp.micros(text, starts[0], ends[0]) != ParseStamp.INVALID;
    boolean badNumber = false;
    for (int index = 0; index < TYPES.length && !badNumber; index++) {
      badNumber = TYPES[index] == 'f' && starts[index] < ends[index] && !isNumber(starts[index], ends[index]);
    }
    return judge(stampParses, badNumber);
  }

  /** The reason of the current line, given whether its stamp parses and whether a non-empty float field does not. */
  private UTF8String judge(boolean stampParses, boolean badNumber) {
    if (fieldCount != TYPES.length) {
      return REASONS[WRONG_FIELD_COUNT];
    }
    if (!stampParses) {
      return REASONS[UNPARSEABLE_STAMP];
    }
    for (int index = FIRST_MOTION_FIELD; index <= LAST_MOTION_FIELD; index++) {
      if (starts[index] == ends[index]) {
        return REASONS[MISSING_MOTION];
      }
    }
    if (badNumber) {
      return REASONS[UNPARSEABLE_NUMBER];
    }
    switch (batteryState()) {
      case NO_STATE:
      case STATE_UNPLUGGED:
      case STATE_UNKNOWN:
        return null;
      case STATE_CHARGING:
        return REASONS[CHARGING];
      case STATE_FULL:
        return REASONS[FULL];
      default:
        return REASONS[INVALID_BATTERY_STATE];
    }
  }

  /** The index of the battery state in {@link #BATTERY_STATES}, {@link #NO_STATE} for none, else -1. */
  private int batteryState() {
    int from = starts[BATTERY_FIELD];
    int to = ends[BATTERY_FIELD];
    if (from == to) {
      return NO_STATE;
    }
    if (utf8 != null && text[from] != '"') { // the common case: compared in place
      for (int state = 0; state < STATE_BYTES.length; state++) {
        if (Arrays.equals(utf8, from, to, STATE_BYTES[state], 0, STATE_BYTES[state].length)) {
          return state;
        }
      }
      return -1;
    }
    UTF8String value = stringField(BATTERY_FIELD);
    return value == null ? NO_STATE : BATTERY_STATES.indexOf(value.toString());
  }

  /** Finds the fields of {@code line}: {@link #fieldCount}, and the bounds of the first {@code TYPES.length}. */
  private void split(UTF8String line) {
    int length = line.numBytes();
    if (bytes.length < length) {
      bytes = new byte[Math.max(length, 2 * bytes.length)];
      chars = new char[bytes.length];
    }
    line.writeToMemory(bytes, Platform.BYTE_ARRAY_OFFSET);
    boolean ascii = true;
    boolean quoted = false;
    for (int i = 0; i < length; i++) {
      byte b = bytes[i];
      ascii &= b >= 0;
      quoted |= b == '"';
      chars[i] = (char) b;
    }
    text = chars;
    utf8 = bytes;
    if (!ascii) {
      text = line.toString().toCharArray();
      utf8 = null;
      length = text.length;
    }
    int count = 0;
    if (!quoted) {
      int start = 0;
      for (int i = 0; i <= length; i++) {
        if (i == length || text[i] == ',') {
          count = bound(count, start, i);
          start = i + 1;
        }
      }
    } else {
      Matcher field = QUOTE_AWARE.matcher(CharBuffer.wrap(text, 0, length));
      while (field.find()) {
        count = bound(count, field.start(1), field.end(1));
      }
    }
    fieldCount = count;
  }

  private int bound(int index, int start, int end) {
    if (index < TYPES.length) {
      starts[index] = start;
      ends[index] = end;
    }
    return index + 1;
  }

  /** Whether float field {@code text[from, to)} (not empty) parses: exactly when {@link ParseDouble} reads it. */
  private boolean isNumber(int from, int to) {
    if (isPlainDecimal(from, to)) { // the common case, read by ParseDouble for sure: no need to compute the value
      return true;
    }
    try {
      ParseDouble.value(text, from, to);
      return true;
    } catch (NumberFormatException notANumber) {
      return false;
    }
  }

  /** {@code [-]digits.digits} (what Python's repr writes), a subset of what ParseDouble reads. */
  private boolean isPlainDecimal(int from, int to) {
    int i = text[from] == '-' ? from + 1 : from;
    int point = -1;
    for (int j = i; j < to; j++) {
      char c = text[j];
      if (c == '.' && point < 0) {
        point = j;
      } else if (c < '0' || c > '9') {
        return false;
      }
    }
    return point > i && point < to - 1;
  }

  /** Types field {@code index} (present, maybe empty) into the row; false when it is empty or does not parse. */
  private boolean store(int index) {
    int ordinal = 1 + index;
    int from = starts[index];
    int to = ends[index];
    if (from == to) {
      return false;
    }
    switch (TYPES[index]) {
      case 'd':
        long micros = ParseStamp.micros(text, from, to);
        if (micros == ParseStamp.INVALID) {
          return false;
        }
        row.write(ordinal, micros);
        return true;
      case 'f':
        try {
          row.write(ordinal, ParseDouble.value(text, from, to));
          return true;
        } catch (NumberFormatException notANumber) { // rare: only lines the rules reject
          return false;
        }
      default:
        if (text[from] != '"' && utf8 != null) {
          row.write(ordinal, utf8, from, to - from);
          return true;
        }
        UTF8String value = stringField(index);
        if (value == null) {
          return false;
        }
        row.write(ordinal, value);
        return true;
    }
  }

  /** String field {@code index} without its CSV quotes (doubled quotes made single); null when nothing is left. */
  private UTF8String stringField(int index) {
    int from = starts[index];
    int to = ends[index];
    if (from == to) {
      return null;
    }
    if (text[from] != '"' && utf8 != null) {
      return UTF8String.fromBytes(utf8, from, to - from);
    }
    String field = new String(text, from, to - from);
    if (field.length() >= 2 && field.charAt(0) == '"' && field.charAt(field.length() - 1) == '"') {
      field = field.substring(1, field.length() - 1).replace("\"\"", "\"");
      if (field.isEmpty()) {
        return null;
      }
    }
    return UTF8String.fromBytes(field.getBytes(StandardCharsets.UTF_8));
  }

  private static char[] typeLetters(String typesLine) {
    String[] codes = typesLine.split(",");
    char[] letters = new char[codes.length];
    for (int i = 0; i < codes.length; i++) {
      letters[i] = codes[i].charAt(0);
    }
    return letters;
  }
}

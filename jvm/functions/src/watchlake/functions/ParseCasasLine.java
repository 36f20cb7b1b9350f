package watchlake.functions;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark SQL function {@code watchlake_parse_casas_line(string) -> struct}: one CASAS data line split into its
 * fields and typed, in one pass, for the clean job's reject rules (Spark expressions, in {@code
 * clean/transforms.py}).
 *
 * <p>The struct is {@code field_count int, empty_fields int}, then one value per CASAS field in file order: the
 * stamp as microseconds since the epoch ({@link ParseStamp}'s grammar), floats as doubles ({@link ParseDouble}'s),
 * strings without their CSV quotes (doubled quotes made single). A value is null when its field is missing, empty
 * or does not parse; {@code empty_fields} has bit {@code i} set when field {@code i} is present and empty, so the
 * rules can tell an empty field from an unparseable one. A null line gives a null struct.
 *
 * <p>The split: a line without a double quote is split at every comma, keeping empty fields; a line with one is
 * split by {@link #FIELD_PATTERN} (every match in turn, its group 1, as {@code regexp_extract_all} does), its quoted
 * fields keeping their quotes until a string field drops them (so a quoted number or stamp does not parse).
 *
 * <p>Why Java: as ~60 Spark expressions the same work made one generated method so large that the JIT spent about
 * 20 CPU seconds compiling it in every fresh process, and every field was copied to a string to be typed; here
 * numbers and stamps are read in place from the line's characters.
 */
public final class ParseCasasLine implements UDF1<String, Row> {
  private static final long serialVersionUID = 1L;
  /** The quote-aware field pattern, equal to {@code clean.transforms.FIELD_PATTERN} (a test checks). */
  public static final String FIELD_PATTERN = "(?:^|,)(\"(?:[^\"]|\"\")*\"|[^,]*)";
  /** The CASAS field types in file order, equal to {@code casas.format.TYPES_LINE} (a test checks). */
  public static final String TYPES_LINE = "dt,f,f,f,f,f,f,f,f,f,s,f,f,f,f,f,f,f,s,s";

  private static final Pattern QUOTE_AWARE = Pattern.compile(FIELD_PATTERN);
  private static final char[] TYPES = typeLetters(TYPES_LINE);

  @Override
  public Row call(String line) {
    if (line == null) {
      return null;
    }
    char[] chars = line.toCharArray();
    Object[] values = new Object[2 + TYPES.length];
    int count = 0;
    int empty = 0;
    if (line.indexOf('"') < 0) {
      int start = 0;
      for (int i = 0; i <= chars.length; i++) {
        if (i == chars.length || chars[i] == ',') {
          empty |= store(chars, start, i, count++, values);
          start = i + 1;
        }
      }
    } else {
      Matcher field = QUOTE_AWARE.matcher(line);
      while (field.find()) {
        empty |= store(chars, field.start(1), field.end(1), count++, values);
      }
    }
    values[0] = count;
    values[1] = empty;
    return RowFactory.create(values);
  }

  /**
   * Types field {@code index} ({@code chars[from, to)}) into {@code values} when the line has such a field;
   * returns its bit for {@code empty_fields} (0 unless present and empty).
   */
  private static int store(char[] chars, int from, int to, int index, Object[] values) {
    if (index >= TYPES.length) {
      return 0;
    }
    if (from == to) {
      return 1 << index;
    }
    switch (TYPES[index]) {
      case 'd':
        long micros = ParseStamp.micros(chars, from, to);
        values[2 + index] = micros == ParseStamp.INVALID ? null : micros;
        break;
      case 'f':
        try {
          values[2 + index] = ParseDouble.value(chars, from, to);
        } catch (NumberFormatException notANumber) { // rare: only lines the rules then reject
          values[2 + index] = null;
        }
        break;
      default:
        values[2 + index] = unquoted(new String(chars, from, to - from));
    }
    return 0;
  }

  /** A CSV field without its surrounding quotes, doubled quotes made single; null when nothing is left. */
  private static String unquoted(String field) {
    if (field.length() < 2 || field.charAt(0) != '"' || field.charAt(field.length() - 1) != '"') {
      return field;
    }
    String inner = field.substring(1, field.length() - 1).replace("\"\"", "\"");
    return inner.isEmpty() ? null : inner;
  }

  private static char[] typeLetters(String typesLine) {
    String[] codes = typesLine.split(",");
    char[] letters = new char[codes.length];
    for (int i = 0; i < codes.length; i++) {
      letters[i] = codes[i].charAt(0);
    }
    if (letters.length > 31) {
      throw new IllegalStateException("empty_fields holds at most 31 fields");
    }
    return letters;
  }
}

package watchlake.functions;

import com.fasterxml.jackson.core.io.NumberInput;
import java.util.Locale;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark SQL function {@code watchlake_parse_double(string) -> double}: the value of {@code try_cast(s AS DOUBLE)},
 * computed faster.
 *
 * <p>Spark's cast hands every string to {@code Double.parseDouble}, whose exact path for the 17 significant
 * digits of Python {@code repr} floats costs about 140 ns a value on this hardware; the FastDoubleParser that
 * jackson-core (already on Spark's classpath) carries gives the same, correctly rounded double in about 40 ns.
 * Accepted text is the cast's: surrounding whitespace ignored, Java floating-point literals, and the special
 * words {@code inf}, {@code +inf}, {@code -inf}, {@code infinity}, {@code +infinity}, {@code -infinity},
 * {@code nan} in any case. Anything else, and null, gives null.
 */
public final class ParseDouble implements UDF1<String, Double> {
  private static final long serialVersionUID = 1L;

  @Override
  public Double call(String text) {
    if (text == null) {
      return null;
    }
    try {
      return NumberInput.parseDouble(text.trim(), true);
    } catch (NumberFormatException notANumber) {
      return specialValue(text);
    }
  }

  private static Double specialValue(String text) {
    switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "inf":
      case "+inf":
      case "infinity":
      case "+infinity":
        return Double.POSITIVE_INFINITY;
      case "-inf":
      case "-infinity":
        return Double.NEGATIVE_INFINITY;
      case "nan":
        return Double.NaN;
      default:
        return null;
    }
  }
}

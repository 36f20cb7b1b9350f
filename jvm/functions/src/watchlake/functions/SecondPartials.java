package watchlake.functions;

import java.util.Locale;
import org.apache.spark.sql.api.java.UDF8;
import scala.collection.Seq;

/**
 * Spark SQL function {@code watchlake_second_partials(motion array<array<double>>, speed array<double>,
 * latitude array<double>, longitude array<double>, location_type array<string>, battery_state array<string>,
 * location_kinds array<string>, km_per_degree double) -> array<double>}: the mergeable partial sums of one run of
 * readings (a second of one watch), from which every window feature is finished.
 *
 * <p>{@code motion} holds the nine motion axes in {@code watchlake.schemas.MOTION_FIELDS} order (yaw, pitch, roll,
 * rotation rate x y z, user acceleration x y z), each with one value per reading in time order; the other arrays
 * hold one value per reading too. Two more channels are derived per reading: |user acceleration| and |rotation
 * rate|. The result, in this order ({@code watchlake.features.partials.SLOTS} names the same layout):
 *
 * <ol>
 *   <li>readings; changes (pairs of consecutive readings: readings - 1);
 *   <li>per channel (the nine axes, then the two magnitudes): sum, sum of squares, of cubes, of fourth powers,
 *       minimum, maximum, sum of absolute changes between consecutive readings;
 *   <li>sum and count of speeds at least 0, largest such speed (-Infinity when none); sum and count of the distance
 *       from the mean location in km (latitude and longitude both known); readings with a location type; readings
 *       whose battery state is "full"; then one count per location kind: a location type, trimmed of spaces and
 *       lower-cased, counts for its kind when listed and for the last kind ("other") when not.
 * </ol>
 *
 * Partials of two runs merge slot by slot (sum, or min / max for the minimum and maximum slots), so a window's
 * partials are the merge of its seconds' partials, in any order and any grouping.
 */
public final class SecondPartials
    implements UDF8<Seq<Seq<Object>>, Seq<Object>, Seq<Object>, Seq<Object>, Seq<Object>, Seq<Object>,
        Seq<Object>, Double, double[]> {
  private static final long serialVersionUID = 1L;
  public static final int AXES = 9;
  public static final int CHANNELS = AXES + 2;
  public static final int PER_CHANNEL = 7;
  private static final int[] ROTATION = {3, 4, 5};
  private static final int[] ACCELERATION = {6, 7, 8};

  /** Number of slots for {@code kinds} location kinds. */
  public static int slots(int kinds) {
    return 2 + CHANNELS * PER_CHANNEL + 7 + kinds;
  }

  @Override
  public double[] call(
      Seq<Seq<Object>> motion,
      Seq<Object> speed,
      Seq<Object> latitude,
      Seq<Object> longitude,
      Seq<Object> locationType,
      Seq<Object> batteryState,
      Seq<Object> kinds,
      Double kmPerDegree) {
    if (motion == null || motion.length() != AXES) {
      throw new IllegalArgumentException(
          "watchlake_second_partials: motion must hold " + AXES + " arrays, got "
              + (motion == null ? "null" : motion.length()));
    }
    int n = motion.apply(0).length();
    double[][] values = new double[CHANNELS][];
    for (int axis = 0; axis < AXES; axis++) {
      Seq<Object> column = motion.apply(axis);
      if (column.length() != n) {
        throw new IllegalArgumentException("watchlake_second_partials: motion arrays differ in length");
      }
      values[axis] = SeqValues.doubles(column);
    }
    values[AXES] = new double[n];
    values[AXES + 1] = new double[n];
    for (int k = 0; k < n; k++) {
      values[AXES][k] = magnitude(values, ACCELERATION, k);
      values[AXES + 1][k] = magnitude(values, ROTATION, k);
    }
    double[] out = new double[slots(kinds.length())];
    out[0] = n;
    out[1] = Math.max(n - 1, 0);
    for (int channel = 0; channel < CHANNELS; channel++) {
      channelPartials(values[channel], out, 2 + channel * PER_CHANNEL);
    }
    Context context = new Context(speed, latitude, longitude, locationType, batteryState);
    contextPartials(context, kinds, kmPerDegree, n, out);
    return out;
  }

  private static double magnitude(double[][] values, int[] axes, int k) {
    double sum = 0.0;
    for (int axis : axes) {
      sum += values[axis][k] * values[axis][k];
    }
    return Math.sqrt(sum);
  }

  private static void channelPartials(double[] x, double[] out, int at) {
    double s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, change = 0.0;
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < x.length; k++) {
      double v = x[k];
      double square = v * v;
      s1 += v;
      s2 += square;
      s3 += square * v;
      s4 += square * square;
      min = Math.min(min, v);
      max = Math.max(max, v);
      if (k > 0) {
        change += Math.abs(v - x[k - 1]);
      }
    }
    out[at] = s1;
    out[at + 1] = s2;
    out[at + 2] = s3;
    out[at + 3] = s4;
    out[at + 4] = min;
    out[at + 5] = max;
    out[at + 6] = change;
  }

  /** The per-reading context arrays of a run. */
  private record Context(
      Seq<Object> speed,
      Seq<Object> latitude,
      Seq<Object> longitude,
      Seq<Object> locationType,
      Seq<Object> batteryState) {}

  private static void contextPartials(Context c, Seq<Object> kinds, double kmPerDegree, int n, double[] out) {
    int at = 2 + CHANNELS * PER_CHANNEL;
    out[at + 2] = Double.NEGATIVE_INFINITY;
    int other = kinds.length() - 1;
    for (int k = 0; k < n; k++) {
      Object s = c.speed().apply(k);
      if (s != null && ((Number) s).doubleValue() >= 0) {
        double value = ((Number) s).doubleValue();
        out[at] += value;
        out[at + 1] += 1;
        out[at + 2] = Math.max(out[at + 2], value);
      }
      Object lat = c.latitude().apply(k);
      Object lon = c.longitude().apply(k);
      if (lat != null && lon != null) {
        double latKm = ((Number) lat).doubleValue() * kmPerDegree;
        double lonKm = ((Number) lon).doubleValue() * kmPerDegree;
        out[at + 3] += Math.sqrt(latKm * latKm + lonKm * lonKm);
        out[at + 4] += 1;
      }
      Object type = c.locationType().apply(k);
      if (type != null) {
        out[at + 5] += 1;
        String kind = trimSpaces((String) type).toLowerCase(Locale.ROOT);
        int index = kinds.indexOf(kind);
        out[at + 7 + (index >= 0 ? index : other)] += 1;
      }
      Object battery = c.batteryState().apply(k);
      if (battery != null && ((String) battery).toLowerCase(Locale.ROOT).equals("full")) {
        out[at + 6] += 1;
      }
    }
  }

  /** Spark SQL's trim: spaces (U+0020) only, both ends. */
  private static String trimSpaces(String text) {
    int start = 0, end = text.length();
    while (start < end && text.charAt(start) == ' ') {
      start++;
    }
    while (end > start && text.charAt(end - 1) == ' ') {
      end--;
    }
    return text.substring(start, end);
  }
}

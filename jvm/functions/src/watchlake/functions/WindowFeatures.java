package watchlake.functions;

import org.apache.spark.sql.api.java.UDF4;
import scala.collection.Seq;

/**
 * Spark SQL function {@code watchlake_window_features(partials array<double>, start_seconds bigint, missing double,
 * constant_share double) -> array<double>}: a window's features, finished from its merged {@link SecondPartials}.
 *
 * <p>The result follows {@code watchlake.features.transforms.FEATURE_COLUMNS}, plus one last element:
 *
 * <ol>
 *   <li>per channel (the nine motion axes, then |acceleration| and |rotation rate|): mean, standard deviation
 *       (population), minimum, maximum, energy (mean square), skewness, kurtosis (not excess), mean absolute change
 *       between consecutive readings of a second (0 with no such pair). Skewness and kurtosis are 0 when the
 *       variance is at most {@code constant_share} times the mean square: finished from power sums, a constant
 *       channel's would be rounding noise.
 *   <li>mean and largest speed (speeds at least 0), mean distance from the mean location in km, each {@code
 *       missing} when the window has none; the shares of readings with a location type, with a full battery, and
 *       of each location kind;
 *   <li>sine and cosine of the window start's hour of day (UTC, {@code start_seconds} since the epoch), 24 h a
 *       turn; the number of readings;
 *   <li>last: the index of the most frequent location kind (the first listed on a tie), or -1 when no reading of
 *       the window has a location type.
 * </ol>
 */
public final class WindowFeatures implements UDF4<Seq<Object>, Long, Double, Double, double[]> {
  private static final long serialVersionUID = 1L;
  private static final int STATS = 8;
  private static final int CONTEXT_AT = 2 + SecondPartials.CHANNELS * SecondPartials.PER_CHANNEL;

  @Override
  public double[] call(Seq<Object> partials, Long startSeconds, Double missing, Double constantShare) {
    if (partials == null || startSeconds == null) {
      return null;
    }
    double[] p = SeqValues.doubles(partials);
    int kinds = p.length - CONTEXT_AT - 7;
    if (kinds < 1) {
      throw new IllegalArgumentException("watchlake_window_features: " + p.length + " partials are too few");
    }
    double n = p[0];
    double[] out = new double[SecondPartials.CHANNELS * STATS + 5 + kinds + 3 + 1];
    for (int channel = 0; channel < SecondPartials.CHANNELS; channel++) {
      channelFeatures(p, 2 + channel * SecondPartials.PER_CHANNEL, n, p[1], constantShare, out, channel * STATS);
    }
    int at = SecondPartials.CHANNELS * STATS;
    double speeds = p[CONTEXT_AT + 1];
    double distances = p[CONTEXT_AT + 4];
    out[at] = speeds > 0 ? p[CONTEXT_AT] / speeds : missing;
    out[at + 1] = speeds > 0 ? p[CONTEXT_AT + 2] : missing;
    out[at + 2] = distances > 0 ? p[CONTEXT_AT + 3] / distances : missing;
    out[at + 3] = p[CONTEXT_AT + 5] / n;
    out[at + 4] = p[CONTEXT_AT + 6] / n;
    int mode = -1;
    for (int kind = 0; kind < kinds; kind++) {
      double count = p[CONTEXT_AT + 7 + kind];
      out[at + 5 + kind] = count / n;
      if (count > 0 && (mode < 0 || count > p[CONTEXT_AT + 7 + mode])) {
        mode = kind;
      }
    }
    at += 5 + kinds;
    double angle = Math.floorMod(startSeconds, 86_400L) / 3600.0 * (2 * Math.PI / 24);
    out[at] = Math.sin(angle);
    out[at + 1] = Math.cos(angle);
    out[at + 2] = n;
    out[at + 3] = mode;
    return out;
  }

  private static void channelFeatures(
      double[] p, int at, double n, double changes, double constantShare, double[] out, int to) {
    double mean = p[at] / n;
    double m2 = p[at + 1] / n;
    double m3 = p[at + 2] / n;
    double m4 = p[at + 3] / n;
    double variance = Math.max(m2 - mean * mean, 0.0);
    boolean varies = variance > constantShare * m2;
    double third = m3 - 3 * mean * m2 + 2 * mean * mean * mean;
    double fourth = m4 - 4 * mean * m3 + 6 * mean * mean * m2 - 3 * mean * mean * mean * mean;
    out[to] = mean;
    out[to + 1] = Math.sqrt(variance);
    out[to + 2] = p[at + 4];
    out[to + 3] = p[at + 5];
    out[to + 4] = m2;
    out[to + 5] = varies ? third / Math.pow(variance, 1.5) : 0.0;
    out[to + 6] = varies ? fourth / (variance * variance) : 0.0;
    out[to + 7] = changes > 0 ? p[at + 6] / changes : 0.0;
  }
}

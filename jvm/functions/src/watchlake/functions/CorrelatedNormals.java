package watchlake.functions;

import org.apache.spark.sql.api.java.UDF5;
import scala.collection.Seq;

/**
 * Spark SQL function {@code watchlake_correlated_normals(key bigint, salt int, readings int, dims int,
 * params array<double>) -> array<double>}: {@code readings} draws of {@code dims} correlated, clipped normals,
 * flat and dimension-major (element {@code d * readings + k} is dimension d of draw k).
 *
 * <p>{@code params} holds, in this order, {@code dims} means, {@code dims} standard deviations, {@code dims}
 * minima, {@code dims} maxima, then the lower triangle of the Cholesky factor L of the correlation matrix, row by
 * row ({@code dims * (dims + 1) / 2} numbers). Draw k is {@code clip(mean + sd * (L z), min, max)} rounded to 6
 * decimals, with {@code z} independent standard normals that depend only on {@code (key * readings + k, salt)}:
 * SplitMix64 of that pair gives 64 bits, whose high and low halves are the two uniforms of a Box-Muller pair.
 * So a draw is the same in a batch and in any micro-batch of a stream, on any partitioning.
 *
 * <p>The synthetic watch generator draws a second of motion (10 readings of 9 axes) per message with it: as
 * SQL expressions, those 90 values made a generated method beyond the JVM's 64 KB limit, and Spark fell back to
 * code an order of magnitude slower.
 */
public final class CorrelatedNormals implements UDF5<Long, Integer, Integer, Integer, Seq<Object>, double[]> {
  private static final long serialVersionUID = 1L;
  private static final double TWO_POW_32 = 4294967296.0;
  private static final double MICROS = 1_000_000.0;

  @Override
  public double[] call(Long key, Integer salt, Integer readings, Integer dims, Seq<Object> params) {
    if (key == null || salt == null || readings == null || dims == null || params == null) {
      return null;
    }
    int d = dims;
    int expected = 4 * d + d * (d + 1) / 2;
    if (readings < 0 || d < 1 || params.length() != expected) {
      throw new IllegalArgumentException(
          "watchlake_correlated_normals: params must hold " + expected + " numbers for " + d
              + " dimensions, got " + params.length());
    }
    double[] p = SeqValues.doubles(params);
    double[] out = new double[readings * d];
    double[] z = new double[(d + 1) / 2 * 2]; // whole Box-Muller pairs
    for (int k = 0; k < readings; k++) {
      standardNormals(key * readings + k, salt, z);
      int row = 4 * d;
      for (int axis = 0; axis < d; axis++) {
        double mixed = 0.0;
        for (int j = 0; j <= axis; j++) {
          mixed += p[row + j] * z[j];
        }
        row += axis + 1;
        double value = p[axis] + p[d + axis] * mixed;
        value = Math.min(Math.max(value, p[2 * d + axis]), p[3 * d + axis]);
        out[axis * readings + k] = Math.rint(value * MICROS) / MICROS;
      }
    }
    return out;
  }

  /** Fills {@code z} (of even length) with independent standard normals of draw {@code draw}. */
  static void standardNormals(long draw, int salt, double[] z) {
    for (int pair = 0; pair < z.length / 2; pair++) {
      long bits = splitMix64(draw * 0x9E3779B97F4A7C15L + ((long) salt << 8) + pair);
      double high = ((bits >>> 32) + 0.5) / TWO_POW_32;
      double low = ((bits & 0xFFFFFFFFL) + 0.5) / TWO_POW_32;
      double radius = Math.sqrt(-2.0 * Math.log(high));
      double angle = 2.0 * Math.PI * low;
      z[2 * pair] = radius * Math.cos(angle);
      z[2 * pair + 1] = radius * Math.sin(angle);
    }
  }

  /** SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective mix of 64 bits. */
  static long splitMix64(long x) {
    long z = x + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

package watchlake.functions;

import scala.collection.Seq;

/** Spark hands a Java function's {@code array<double>} argument as a Scala Seq of boxed numbers. */
final class SeqValues {
  private SeqValues() {}

  /** The elements of a non-null {@code array<double>} without null elements, unboxed. */
  static double[] doubles(Seq<Object> values) {
    double[] out = new double[values.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) values.apply(i)).doubleValue();
    }
    return out;
  }
}

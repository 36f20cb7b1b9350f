package watchlake.functions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;

/**
 * Class probabilities of a fitted Spark ML classifier for rows held by the driver, without a Spark job: the
 * streaming predictor scores each micro-batch's few windows with the model's own {@code predictProbability}, so
 * the result is exactly what the model's {@code transform} gives, without planning a query per micro-batch.
 *
 * <p>Rows travel as little-endian doubles, row after row ({@code width} per row); so do the probabilities
 * ({@code numClasses} per row).
 */
public final class ModelScorer {
  private ModelScorer() {}

  public static byte[] probabilities(
      ProbabilisticClassificationModel<Vector, ?> model, byte[] features, int width) {
    DoubleBuffer in = ByteBuffer.wrap(features).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
    if (width <= 0 || in.remaining() % width != 0) {
      throw new IllegalArgumentException(in.remaining() + " values do not make rows of " + width);
    }
    int rows = in.remaining() / width;
    int classes = model.numClasses();
    ByteBuffer out = ByteBuffer.allocate(rows * classes * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    double[] row = new double[width];
    for (int r = 0; r < rows; r++) {
      in.get(row);
      Vector probability = model.predictProbability(Vectors.dense(row));
      for (int c = 0; c < classes; c++) {
        out.putDouble(probability.apply(c));
      }
    }
    return out.array();
  }
}

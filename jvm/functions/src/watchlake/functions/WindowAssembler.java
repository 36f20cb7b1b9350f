package watchlake.functions;

import java.io.Serializable;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.FlatMapGroupsWithStateFunction;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.streaming.GroupState;
import org.apache.spark.sql.streaming.GroupStateTimeout;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Per-watch event-time windows of a stream of second partials ({@link SecondPartials}), closed by the watch's own
 * messages: a window is emitted as soon as its watch has sent a second at or past the window's last second, and
 * for a watch that falls silent, once the stream's watermark passes the window's end.
 *
 * <p>Input columns: {@code key} string (the watch), {@code second} bigint (epoch second of the run),
 * {@code arrived_at} timestamp, {@code event_time} timestamp carrying the watermark, {@code partials}
 * array&lt;double&gt;, {@code origin} (a struct saying where the run came from, e.g. its Kafka position) and
 * {@code passthrough}, a struct that is null for partials. A row whose passthrough is
 * not null (for example a malformed message on its way to the dead letters) is emitted at once, unchanged, and
 * touches no state: one query can carry both.
 *
 * <p>Output columns: {@code key}, {@code window_start}, {@code window_end} (timestamps), {@code seconds} (runs
 * merged), {@code last_arrived_at}, {@code partials} (merged slot by slot with {@code mergeOps}: 0 sum, 1 min,
 * 2 max), {@code signal} (per merged run: seconds into the window, then each {@code signalSlots} value divided by
 * the {@code countSlot} value; flat), {@code passthrough} and {@code late}. A run is merged once per window: one
 * arriving when every window of its watch that contains it was already emitted, or repeating a second already
 * merged (a producer's retry), comes out at once as a row holding only its key and, in {@code late}, its origin
 * (so the caller can set it aside with a reason); Spark itself drops rows older than the
 * watermark. On a batch Dataset (no watermark, no state kept) every window of the input is emitted.
 */
public final class WindowAssembler
    implements FlatMapGroupsWithStateFunction<String, Row, WindowAssembler.Watch, Row> {
  private static final long serialVersionUID = 1L;

  private final long window;
  private final long step;
  private final int[] mergeOps;
  private final int countSlot;
  private final int[] signalSlots;

  /** The open windows of one watch, by start second, and how far its windows have been emitted. */
  public static final class Watch implements Serializable {
    private static final long serialVersionUID = 1L;
    public TreeMap<Long, Open> open = new TreeMap<>();
    public long emittedUntil = Long.MIN_VALUE; // end second of the last emitted window
  }

  /** A window being filled. */
  public static final class Open implements Serializable {
    private static final long serialVersionUID = 1L;
    public double[] partials;
    public int seconds;
    public long lastArrivedMs = Long.MIN_VALUE;
    public double[] signal = new double[0];
    public BitSet merged = new BitSet(); // the seconds (into the window) already merged
  }

  public WindowAssembler(long window, long step, int[] mergeOps, int countSlot, int[] signalSlots) {
    if (window <= 0 || step <= 0) {
      throw new IllegalArgumentException("window and step must be positive seconds");
    }
    this.window = window;
    this.step = step;
    this.mergeOps = mergeOps.clone();
    this.countSlot = countSlot;
    this.signalSlots = signalSlots.clone();
  }

  /** The assembled windows of {@code input} (a streaming Dataset with a watermark on {@code event_time}). */
  public static Dataset<Row> assemble(
      Dataset<Row> input, long window, long step, int[] mergeOps, int countSlot, int[] signalSlots) {
    DataType passthrough = input.schema().apply("passthrough").dataType();
    DataType origin = input.schema().apply("origin").dataType();
    // event_time stays in: Spark finds the watermark of an event-time timeout on the operator's input columns.
    Dataset<Row> ordered =
        input.select("key", "second", "arrived_at", "partials", "passthrough", "origin", "event_time");
    return ordered
        .groupByKey((MapFunction<Row, String>) row -> row.getString(0), Encoders.STRING())
        .flatMapGroupsWithState(
            new WindowAssembler(window, step, mergeOps, countSlot, signalSlots),
            OutputMode.Append(),
            Encoders.kryo(Watch.class),
            Encoders.row(outputSchema(passthrough, origin)),
            GroupStateTimeout.EventTimeTimeout());
  }

  static StructType outputSchema(DataType passthrough, DataType origin) {
    return new StructType(
        new StructField[] {
          DataTypes.createStructField("key", DataTypes.StringType, true),
          DataTypes.createStructField("window_start", DataTypes.TimestampType, true),
          DataTypes.createStructField("window_end", DataTypes.TimestampType, true),
          DataTypes.createStructField("seconds", DataTypes.IntegerType, true),
          DataTypes.createStructField("last_arrived_at", DataTypes.TimestampType, true),
          DataTypes.createStructField(
              "partials", DataTypes.createArrayType(DataTypes.DoubleType, false), true),
          DataTypes.createStructField(
              "signal", DataTypes.createArrayType(DataTypes.DoubleType, false), true),
          DataTypes.createStructField("passthrough", passthrough, true),
          DataTypes.createStructField("late", origin, true),
        });
  }

  @Override
  public Iterator<Row> call(String key, Iterator<Row> rows, GroupState<Watch> state) {
    Watch watch = state.exists() ? state.get() : new Watch();
    List<Row> out = new ArrayList<>();
    long newest = Long.MIN_VALUE;
    while (rows.hasNext()) {
      Row row = rows.next();
      if (!row.isNullAt(4)) {
        out.add(RowFactory.create(key, null, null, null, null, null, null, row.get(4), null));
        continue;
      }
      long second = row.getLong(1);
      if (!merge(watch, second, ((Timestamp) row.get(2)).getTime(), SeqValues.doubles(row.getSeq(3)))) {
        out.add(RowFactory.create(key, null, null, null, null, null, null, null, row.get(5)));
      }
      newest = Math.max(newest, second);
    }
    Long watermarkMs = watermarkMs(state);
    if (watermarkMs == null) { // a batch query: the key's whole input is here, so every window is complete
      emit(key, watch, Long.MAX_VALUE, out);
      return out.iterator();
    }
    long watermarkSecond = Math.floorDiv(watermarkMs, 1000L);
    // Complete: the watch has sent the window's last second or a later one. Overdue: the watermark passed its end.
    long closeBefore = Math.max(newest == Long.MIN_VALUE ? Long.MIN_VALUE : newest + 1, watermarkSecond);
    emit(key, watch, closeBefore, out);
    if (watch.open.isEmpty() && state.hasTimedOut()) {
      state.remove();
    } else {
      state.update(watch);
      long due = watch.open.isEmpty() ? watch.emittedUntil : watch.open.firstKey() + window;
      state.setTimeoutTimestamp(Math.max(due, watermarkSecond + 1) * 1000L);
    }
    return out.iterator();
  }

  /** The stream's watermark, or null in a batch query (which has none). */
  private static Long watermarkMs(GroupState<Watch> state) {
    try {
      return state.getCurrentWatermarkMs();
    } catch (UnsupportedOperationException batchQuery) {
      return null;
    }
  }

  /**
   * Merges a run into every open window of the watch containing it that does not hold its second yet; false when
   * it went into none (all were emitted, or it repeats a second already merged).
   */
  private boolean merge(Watch watch, long second, long arrivedMs, double[] partials) {
    boolean merged = false;
    for (long start = Math.floorDiv(second, step) * step; start + window > second; start -= step) {
      if (start + window <= watch.emittedUntil) {
        continue;
      }
      Open open = watch.open.computeIfAbsent(start, s -> new Open());
      int offset = (int) (second - start);
      if (open.merged.get(offset)) {
        continue;
      }
      open.merged.set(offset);
      merged = true;
      if (open.partials == null) {
        open.partials = partials.clone();
      } else {
        combine(open.partials, partials);
      }
      open.seconds++;
      open.lastArrivedMs = Math.max(open.lastArrivedMs, arrivedMs);
      open.signal = appendSignal(open.signal, second - start, partials);
    }
    return merged;
  }

  private void combine(double[] into, double[] partials) {
    for (int i = 0; i < into.length; i++) {
      switch (mergeOps[i]) {
        case 1 -> into[i] = Math.min(into[i], partials[i]);
        case 2 -> into[i] = Math.max(into[i], partials[i]);
        default -> into[i] += partials[i];
      }
    }
  }

  private double[] appendSignal(double[] signal, long offset, double[] partials) {
    int width = 1 + signalSlots.length;
    double[] grown = java.util.Arrays.copyOf(signal, signal.length + width);
    grown[signal.length] = offset;
    double count = partials[countSlot];
    for (int i = 0; i < signalSlots.length; i++) {
      grown[signal.length + 1 + i] = count > 0 ? partials[signalSlots[i]] / count : 0.0;
    }
    return grown;
  }

  /** Emits, in start order, every open window whose end is at or before {@code closeBefore}. */
  private void emit(String key, Watch watch, long closeBefore, List<Row> out) {
    while (!watch.open.isEmpty() && watch.open.firstKey() + window <= closeBefore) {
      Map.Entry<Long, Open> first = watch.open.pollFirstEntry();
      long start = first.getKey();
      Open open = first.getValue();
      out.add(
          RowFactory.create(
              key,
              new Timestamp(start * 1000L),
              new Timestamp((start + window) * 1000L),
              open.seconds,
              new Timestamp(open.lastArrivedMs),
              open.partials,
              open.signal,
              null,
              null));
      watch.emittedUntil = Math.max(watch.emittedUntil, start + window);
    }
  }
}

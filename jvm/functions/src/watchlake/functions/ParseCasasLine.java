package watchlake.functions;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.objects.StaticInvoke;
import org.apache.spark.sql.classic.SparkSession;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Option;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The clean job's two Spark SQL functions of a CASAS data line, both by {@link CasasLineParser}: {@code
 * watchlake_parse_casas_line(string) -> struct}, the typed fields and the reject reason, and {@code
 * watchlake_casas_line_reason(string) -> string}, the reason alone (null: keep the line), found faster. A null
 * line gives null.
 *
 * <p>Static calls in Spark's generated code ({@code StaticInvoke}) rather than Java UDFs: the line goes in as its
 * UTF-8 bytes and the parser's row comes out as the struct, where a UDF decodes each line to a Java string and
 * converts a boxed {@code Row} back, field by field (bench/clean).
 */
public final class ParseCasasLine {
  public static final String PARSE = "watchlake_parse_casas_line";
  public static final String REASON = "watchlake_casas_line_reason";
  private static final ThreadLocal<CasasLineParser> PARSERS = ThreadLocal.withInitial(CasasLineParser::new);

  private ParseCasasLine() {}

  /** The typed fields of {@code line} (not null), a row the caller may keep. */
  public static InternalRow parse(UTF8String line) {
    return PARSERS.get().parse(line);
  }

  /** The reject reason of {@code line} (not null); null for a line to keep. */
  public static UTF8String reason(UTF8String line) {
    return PARSERS.get().reason(line);
  }

  /**
   * Registers both functions in {@code spark}; the parse returns a struct of the type {@code typeDdl} spells (the
   * Python side's {@code jvm.CASAS_LINE_TYPE}, whose fields must follow {@link CasasLineParser}'s row; a test
   * checks).
   */
  public static void register(SparkSession spark, String typeDdl) {
    // The parse is declared non-deterministic although it is not: Spark then keeps a filter on its result above it
    // (a deterministic one is copied into each filter pushed below it, which parses the line again) and computes it
    // once per line however many fields are read, provided it has a projection of its own.
    register(spark, PARSE, DataType.fromDDL(typeDdl), "parse", false, false);
    register(spark, REASON, DataTypes.StringType, "reason", true, true);
  }

  private static void register(
      SparkSession spark, String name, DataType type, String method, boolean nullable, boolean deterministic) {
    Seq<AbstractDataType> inputTypes = seq(DataTypes.StringType);
    scala.Function1<Seq<Expression>, Expression> builder =
        arguments -> {
          if (arguments.size() != 1) {
            throw new IllegalArgumentException(name + " takes one argument (a line), got " + arguments.size());
          }
          return new StaticInvoke(
              ParseCasasLine.class, type, method, arguments, inputTypes, true, nullable, deterministic, Option.empty());
        };
    spark.sessionState().functionRegistry().createOrReplaceTempFunction(name, builder, "scala_udf");
  }

  @SafeVarargs
  private static <T> Seq<T> seq(T... items) {
    return CollectionConverters.asScala(java.util.Arrays.asList(items)).toSeq();
  }
}

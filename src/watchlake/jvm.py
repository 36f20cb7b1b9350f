"""watchlake's Java side (``jvm/functions``), as seen from Python: the SQL function names and the py4j bridges.

The ground floor for every module that calls Java: pure transforms import the function names from here (not from
the session builder), and the two operators Spark has no Python API for, the per-watch window assembler and the
driver-side model scorer, are reached only through :func:`assemble` and :func:`class_probabilities`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pyspark import SparkContext
from pyspark.sql import DataFrame, SparkSession

from watchlake.schemas import CASAS_FIELDS, CASAS_TYPES

# What watchlake_parse_casas_line returns: the field count, each CASAS field typed (the stamp in microseconds; null
# when empty or unparseable), then the line's reject reason (schemas.REJECT_REASONS, null: keep it), which
# watchlake_casas_line_reason also gives alone.
_VALUE_TYPES = {"dt": "bigint", "f": "double", "s": "string"}
CASAS_LINE_TYPE = (
    "struct<field_count: int, "
    + ", ".join(f"{name}: {_VALUE_TYPES[code]}" for name, code in zip(CASAS_FIELDS, CASAS_TYPES, strict=True))
    + ", reason: string>"
)

PARSE_CASAS_LINE = "watchlake_parse_casas_line"
CASAS_LINE_REASON = "watchlake_casas_line_reason"
CORRELATED_NORMALS = "watchlake_correlated_normals"
SECOND_PARTIALS = "watchlake_second_partials"
WINDOW_FEATURES = "watchlake_window_features"
# SQL name -> (Java UDF class, return type); registered in every session by :func:`register_functions`, with the two
# line functions (static calls in generated code, not UDFs: see ParseCasasLine.java).
SQL_FUNCTIONS = {
    CORRELATED_NORMALS: ("watchlake.functions.CorrelatedNormals", "array<double>"),
    SECOND_PARTIALS: ("watchlake.functions.SecondPartials", "array<double>"),
    WINDOW_FEATURES: ("watchlake.functions.WindowFeatures", "array<double>"),
}


def register_functions(spark: SparkSession) -> None:
    """Make the two line functions and every ``SQL_FUNCTIONS`` name callable in ``spark`` (the functions jar must be
    on its classpath)."""
    spark._jvm.watchlake.functions.ParseCasasLine.register(spark._jsparkSession, CASAS_LINE_TYPE)  # type: ignore[union-attr]
    for name, (java_class, return_type) in SQL_FUNCTIONS.items():
        spark.udf.registerJavaFunction(name, java_class, return_type)


def path_exists(spark: SparkSession, path: str) -> bool:
    """Whether ``path`` exists on its file system (local, S3A, HDFS), asked through Hadoop: reading a missing path
    would log a Java FileNotFoundException trace before the error the caller turns into advice."""
    jvm, hadoop_conf = spark._jvm, spark._jsc.hadoopConfiguration()  # type: ignore[union-attr]
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return bool(hadoop_path.getFileSystem(hadoop_conf).exists(hadoop_path))


def assemble(
    rows: DataFrame,
    *,
    window_seconds: int,
    step_seconds: int,
    merge_codes: Sequence[int],
    readings_slot: int,
    signal_slots: Sequence[int],
) -> DataFrame:
    """``WindowAssembler.assemble`` over ``rows`` (a stream or a batch): see ``features.assembly``."""
    spark = rows.sparkSession
    gateway = spark.sparkContext._gateway
    assembled = spark._jvm.watchlake.functions.WindowAssembler.assemble(  # type: ignore[union-attr]
        rows._jdf,
        int(window_seconds),
        int(step_seconds),
        _int_array(gateway, merge_codes),
        int(readings_slot),
        _int_array(gateway, signal_slots),
    )
    return DataFrame(assembled, spark)


def class_probabilities(classifier: Any, matrix: np.ndarray) -> np.ndarray:
    """``ModelScorer.probabilities``: the fitted Spark ML ``classifier``'s class probabilities of each row of
    ``matrix`` (n x assembler inputs), in one JVM call; an n x ``classifier.numClasses`` array."""
    jvm = SparkContext._active_spark_context._jvm  # type: ignore[union-attr]
    packed = jvm.watchlake.functions.ModelScorer.probabilities(
        classifier._java_obj, np.ascontiguousarray(matrix, dtype="<f8").tobytes(), matrix.shape[1]
    )
    return np.frombuffer(bytes(packed), dtype="<f8").reshape(matrix.shape[0], classifier.numClasses)


def _int_array(gateway: Any, values: Sequence[int]) -> Any:
    array = gateway.new_array(gateway.jvm.int, len(values))
    for index, value in enumerate(values):
        array[index] = value
    return array

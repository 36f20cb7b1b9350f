"""Datasets in the lake as catalog tables: the written-schema check and the registration every batch stage shares.

Registration is by path (external Parquet tables), so the data stays where the stage wrote it; the catalog is
Hive locally and the Glue Data Catalog on EMR (``settings.catalog``).
"""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from watchlake.errors import DataQualityError

log = logging.getLogger(__name__)


def check_written_schema(spark: SparkSession, path: str, schema: StructType, rows: int) -> None:
    """DataQualityError unless the Parquet at ``path`` has exactly the columns and types of ``schema``."""
    if rows == 0:
        return  # nothing was written, so there are no files to infer a schema from
    written = {column.name: column.dataType for column in spark.read.parquet(path).schema}
    declared = {column.name: column.dataType for column in schema}
    if written != declared:
        raise DataQualityError(f"{path}: written schema {written} differs from the declared {declared}")


def register_table(
    spark: SparkSession, table: str, path: str, schema: StructType, partitions: tuple[str, ...]
) -> None:
    """(Re)register ``path`` as the external Parquet table ``table`` (partitioned by ``partitions``, none when
    empty); the data is untouched."""
    columns = ", ".join(f"`{column.name}` {column.dataType.simpleString()}" for column in schema)
    partitioned = f" PARTITIONED BY ({', '.join(partitions)})" if partitions else ""
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    spark.sql(f"CREATE TABLE {table} ({columns}) USING parquet{partitioned} LOCATION '{path}'")
    if partitions:
        spark.sql(f"MSCK REPAIR TABLE {table}")
    log.info("registered %s at %s", table, path)

"""The clean job: staged CASAS CSVs -> processed readings (Parquet by participant and date) + rejected lines.

The work is :mod:`watchlake.clean.readings` (rows in = kept + rejected, checked). Both outputs are replaced as a
whole on every run (static overwrite) and registered as external catalog tables unless catalog.kind is none. A
file whose two header rows are wrong is not cleaned: the others are, and the run then ends in a FormatError naming
it; its earlier readings stay (with a failed file, only the partitions written now are replaced). Repeated
identical rows are kept (CASAS writes them on purpose; see ``transforms``).
"""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession

from watchlake.catalog import check_written_schema, register_table
from watchlake.clean.files import list_staged_files
from watchlake.clean.readings import (
    READINGS_PARTITIONS,
    REJECTED_PARTITIONS,
    CleanResult,
    clean_files,
    split_readable,
)
from watchlake.errors import FormatError
from watchlake.lake import Lake
from watchlake.schemas import READINGS, REJECTED_READINGS
from watchlake.settings import Settings

log = logging.getLogger(__name__)
__all__ = ["CleanResult", "run"]


def run(settings: Settings, spark: SparkSession) -> CleanResult:
    """Clean everything under ``Lake.staging`` into ``Lake.readings`` and ``Lake.rejected_readings``.

    FormatError after writing when a staged file failed its header check (the message names each such file).
    """
    lake = Lake.from_settings(settings)
    staged = list_staged_files(spark, lake.staging)
    readable, failed = split_readable(spark, staged)
    result = clean_files(spark, staged, readable, lake.readings, lake.rejected_readings, tuple(failed))
    check_written_schema(spark, lake.readings, READINGS, result.rows_kept)
    check_written_schema(spark, lake.rejected_readings, REJECTED_READINGS, result.rows_rejected)
    if settings.catalog.kind != "none":
        register_table(spark, lake.readings_table, lake.readings, READINGS, READINGS_PARTITIONS)
        register_table(
            spark, lake.rejected_table, lake.rejected_readings, REJECTED_READINGS, REJECTED_PARTITIONS
        )
    log.info(
        "cleaned %d files (%.1f MB): %d rows in, %d kept, %d rejected %s in %.1f s",
        result.files,
        result.bytes_in / 1e6,
        result.rows_in,
        result.rows_kept,
        result.rows_rejected,
        result.rejected_by_reason,
        result.seconds,
    )
    if failed:
        raise FormatError(
            f"{len(failed)} of {len(staged)} staged file(s) failed the header check and were not cleaned "
            f"(the other {result.files} were: {result.rows_kept} rows kept; earlier readings of the failed "
            "files stay): " + "; ".join(failed)
        )
    return result

"""Cleaning a list of staged CASAS files into a readings and a rejected-lines dataset: what ``watchlake clean``
writes into the lake and ``watchlake score --source`` into its scratch place.

Contract: every data line of every file given ends in exactly one of the two outputs (checked: rows in = rows kept
+ rows rejected, else DataQualityError). A file whose two header rows are wrong is left out and reported
(:func:`split_readable`); zero-byte files are skipped with a warning. Each output is one pass over the CSVs (no
cache: a second pass that only asks each line its reject reason costs less than caching the parse); the counts
come from observed metrics of those writes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import reduce

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from watchlake.casas.format import HEADER_LINE, TYPES_LINE
from watchlake.clean.files import StagedFile, check_header_rows, head_rows, metadata_path
from watchlake.clean.transforms import (
    LINES_DDL,
    participant_of,
    select_data_lines,
    to_readings,
    to_rejected,
)
from watchlake.errors import DataQualityError, FormatError
from watchlake.schemas import MOTION_FIELDS, REJECT_REASONS
from watchlake.spark import sql_conf

log = logging.getLogger(__name__)

READINGS_PARTITIONS = ("participant", "date")
REJECTED_PARTITIONS = ("reason",)
# A text scan per file costs about 35 ms (its own tasks, measured with 300 small files); taking the participant from
# every line's file path costs about 1.2 CPU s per GB (bench/clean). Per-file scans pay off from about 32 MB a file.
PER_FILE_SCAN_MIN_BYTES = 32 * 1024 * 1024
JOB_SQL_CONF = {
    # Write each task's few participant/date partitions with concurrent writers instead of sorting first.
    "spark.sql.maxConcurrentOutputFileWriters": "16",
}


@dataclass(frozen=True)
class CleanResult:
    """What one clean run read and wrote; ``rows_in`` counts data lines (header rows excluded)."""

    files: int
    bytes_in: int
    rows_in: int
    rows_kept: int
    rows_rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    empty_files: tuple[str, ...] = ()
    failed_files: tuple[str, ...] = ()  # the header check's messages, one per file not cleaned
    seconds: float = 0.0


def split_readable(spark: SparkSession, staged: list[StagedFile]) -> tuple[list[StagedFile], list[str]]:
    """(the non-empty files whose header rows are right, the header check's message of each other non-empty file)."""
    readable: list[StagedFile] = []
    failed: list[str] = []
    for staged_file in staged:
        if staged_file.size_bytes == 0:
            log.warning("%s is empty (0 bytes): skipped", staged_file.path)
            continue
        try:
            check_header_rows(staged_file.path, head_rows(spark, staged_file.path))
        except FormatError as error:
            log.error("not cleaned: %s", error)
            failed.append(str(error))
            continue
        readable.append(staged_file)
    return readable, failed


def clean_files(
    spark: SparkSession,
    staged: list[StagedFile],
    readable: list[StagedFile],
    readings_path: str,
    rejected_path: str,
    failed: tuple[str, ...] = (),
) -> CleanResult:
    """Clean ``readable`` (of the ``staged`` listing) into ``readings_path`` and ``rejected_path``, replacing them;
    with ``failed`` files only the partitions written now are replaced (so their earlier readings stay)."""
    started = time.monotonic()
    overwrite = "dynamic" if failed else "static"
    with sql_conf(spark, JOB_SQL_CONF):
        seen = _clean(spark, readable, readings_path, rejected_path, overwrite)
    return checked_counts(staged, readable, *seen, started, failed)


def _clean(
    spark: SparkSession, files: list[StagedFile], readings_path: str, rejected_path: str, overwrite: str
) -> tuple[dict[str, int], ...]:
    """Write both outputs of ``files``, one pass over the files each; returns the observed counts (lines, kept,
    rejected). The readings pass parses every line (values and reason in one call), the rejected pass only asks
    each line its reason (values mostly not computed); the rows in = kept + rejected check covers a file that
    changed between the passes."""
    lines_seen, kept_seen, rejected_seen = Observation("lines"), Observation("kept"), Observation("rejected")
    lines = _read_lines(spark, files).observe(
        lines_seen,
        F.count(F.lit(1)).alias("lines"),
        F.count_if(F.col("value").isin(HEADER_LINE, TYPES_LINE)).alias("header_lines"),
    )
    readings = to_readings(select_data_lines(lines)).observe(kept_seen, F.count(F.lit(1)).alias("rows"))
    _write(readings, readings_path, READINGS_PARTITIONS, overwrite)
    rejected = to_rejected(select_data_lines(_read_lines(spark, files))).observe(
        rejected_seen,
        F.count(F.lit(1)).alias("rows"),
        *(F.count_if(F.col("reason") == reason).alias(reason) for reason in REJECT_REASONS),
    )
    _write(rejected, rejected_path, REJECTED_PARTITIONS, overwrite)
    return lines_seen.get, kept_seen.get, rejected_seen.get


def _read_lines(spark: SparkSession, files: list[StagedFile]) -> DataFrame:
    """One row per text line (LF, CRLF or CR endings), ``LINES_DDL``; an empty frame for no files.

    Large files get a text scan each, so the file path and participant are constants of the scan; small ones share
    one scan and take both from each line's ``_metadata.file_path`` (``PER_FILE_SCAN_MIN_BYTES`` says why; that
    column costs about 2 CPU s per GB and pass). Same rows either way.
    """
    if not files:
        return spark.createDataFrame([], LINES_DDL)
    if sum(staged.size_bytes for staged in files) >= PER_FILE_SCAN_MIN_BYTES * len(files):
        scans = [
            spark.read.text(staged.path).select(
                F.lit(metadata_path(spark, staged.path)).alias("source_file"),
                F.lit(staged.participant).alias("participant"),
                "value",
            )
            for staged in files
        ]
        return reduce(DataFrame.unionAll, scans)
    path = F.col("_metadata.file_path")
    return spark.read.text([staged.path for staged in files]).select(
        path.alias("source_file"), participant_of(path).alias("participant"), "value"
    )


def _write(frame: DataFrame, path: str, partitions: tuple[str, ...], overwrite: str) -> None:
    started = time.monotonic()
    # Static: the output is rebuilt from all of staging, so partitions that vanished must go too. Dynamic (some
    # files failed their check): only the partitions written now are replaced, the failed files' earlier ones stay.
    writer = frame.write.mode("overwrite").option("partitionOverwriteMode", overwrite)
    for column in set(frame.columns) & {"stamp", "line", *MOTION_FIELDS}:
        # Motion doubles, 10 Hz stamps and whole lines hardly repeat: a dictionary would be built, overflow and be
        # dropped.
        writer = writer.option(f"parquet.enable.dictionary#{column}", "false")
    writer.partitionBy(*partitions).parquet(path)
    log.info("wrote %s in %.1f s", path, time.monotonic() - started)


def checked_counts(
    staged: list[StagedFile],
    readable: list[StagedFile],
    lines: dict[str, int],
    kept: dict[str, int],
    rejected: dict[str, int],
    started: float,
    failed: tuple[str, ...] = (),
) -> CleanResult:
    """The run's counts; DataQualityError unless header rows = 2 per file and rows in = kept + rejected."""
    if lines["header_lines"] != 2 * len(readable):
        raise DataQualityError(
            f"found {lines['header_lines']} header rows in {len(readable)} files (expected 2 each): a file holds "
            "a header row in its data; check the staged files"
        )
    rows_in = lines["lines"] - lines["header_lines"]
    by_reason = {reason: int(rejected[reason]) for reason in REJECT_REASONS}
    if rows_in != kept["rows"] + rejected["rows"] or rejected["rows"] != sum(by_reason.values()):
        raise DataQualityError(
            f"rows in ({rows_in}) != rows kept ({kept['rows']}) + rows rejected ({rejected['rows']}, by reason "
            f"{by_reason}); the outputs are inconsistent, do not use them"
        )
    return CleanResult(
        files=len(readable),
        bytes_in=sum(staged_file.size_bytes for staged_file in readable),
        rows_in=rows_in,
        rows_kept=kept["rows"],
        rows_rejected=rejected["rows"],
        rejected_by_reason=by_reason,
        empty_files=tuple(staged_file.path for staged_file in staged if staged_file.size_bytes == 0),
        failed_files=failed,
        seconds=round(time.monotonic() - started, 3),
    )

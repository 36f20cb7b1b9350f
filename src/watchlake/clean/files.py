"""Finding the staged CASAS files and checking their two header rows before the clean job reads them.

Files are read through Hadoop's FileSystem so the same code works on a local lake, ``s3a://`` and EMRFS ``s3://``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from watchlake.casas.format import FILE_GLOB, HEADER_LINE, TYPES_LINE, participant_from_path, validate_header
from watchlake.errors import FormatError, IngestError
from watchlake.jvm import path_exists


@dataclass(frozen=True)
class StagedFile:
    """One staged CASAS file: its full path (URI), participant id and size in bytes."""

    path: str
    participant: str
    size_bytes: int


def list_staged_files(spark: SparkSession, staging: str) -> list[StagedFile]:
    """Every ``sw1.pN.csv`` under ``staging`` (any depth), sorted by path.

    Raises IngestError when there is nothing staged, FormatError when a file name has no participant number or two
    files name the same participant.
    """
    if not path_exists(spark, staging):
        raise IngestError(f"the staging area {staging} does not exist; run `watchlake ingest` first")
    try:
        reader = spark.read.option("recursiveFileLookup", "true").option("pathGlobFilter", FILE_GLOB)
        paths = sorted(reader.text(staging).inputFiles())
    except AnalysisException as error:
        what = (
            "does not exist"
            if error.getCondition() == "PATH_NOT_FOUND"
            else f"cannot be read ({error.getCondition()})"
        )
        raise IngestError(f"the staging area {staging} {what}; run `watchlake ingest` first") from None
    if not paths:
        raise IngestError(f"no {FILE_GLOB} files under {staging}; run `watchlake ingest` first")
    files: dict[str, StagedFile] = {}
    for path in paths:
        participant = participant_from_path(path)
        if participant in files:
            raise FormatError(
                f"participant {participant} is staged twice: {files[participant].path} and {path}"
            )
        files[participant] = StagedFile(path, participant, _file_size(spark, path))
    return sorted(files.values(), key=lambda staged: staged.path)


def check_header_rows(path: str, rows: list[str]) -> None:
    """Raise FormatError naming the file and row unless ``rows`` are the CASAS field-name and field-type rows.

    The rows must equal the expected lines byte for byte (the clean job drops them by value); the CASAS reader's
    :func:`~watchlake.casas.format.validate_header` explains a mismatch when it can.
    """
    if rows[:2] != [HEADER_LINE, TYPES_LINE] and len(rows) == 2:
        split = [row.split(",") for row in rows]
        validate_header(split[0], split[1], path)
    expected = ((1, "field names", HEADER_LINE), (2, "field types", TYPES_LINE))
    for number, what, line in expected:
        if len(rows) < number:
            raise FormatError(f"{path}: row {number} ({what}) is missing; the file is truncated")
        if rows[number - 1] != line:
            raise FormatError(
                f"{path}: row {number} ({what}) is {rows[number - 1][:200]!r}, expected {line!r}; "
                "fix or re-stage the file (it was not cleaned)"
            )


def head_rows(spark: SparkSession, path: str, count: int = 2) -> list[str]:
    """The first ``count`` lines of a file (fewer if it is shorter), without line endings (LF, CRLF or CR)."""
    jvm: Any = spark._jvm  # Hadoop's FileSystem is reached through py4j; PySpark has no Python API for it.
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    stream = hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).open(hadoop_path)
    try:
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
        rows = []
        for _ in range(count):
            line = reader.readLine()
            if line is None:
                break
            rows.append(line)
        return rows
    finally:
        stream.close()


def metadata_path(spark: SparkSession, path: str) -> str:
    """``path`` (as listed: ``file:///x``, URL-encoded) as Spark's ``_metadata.file_path`` spells it (``file:/x``)."""
    jvm: Any = spark._jvm
    hadoop_path = jvm.org.apache.spark.paths.SparkPath.fromUrlString(path).toPath().toString()
    return str(jvm.org.apache.hadoop.fs.Path(hadoop_path).toUri().toString())


def _file_size(spark: SparkSession, path: str) -> int:
    jvm: Any = spark._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return int(
        hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).getFileStatus(hadoop_path).getLen()
    )

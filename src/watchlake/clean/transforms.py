"""Pure transforms of the clean stage: staged CASAS text lines in, typed readings and rejected lines out.

Input is one row per text line, ``source_file string, participant string, value string`` (``LINES_DDL``): the
line as ``spark.read.text`` gives it, with its file's path and participant (from the file name, see
``files.list_staged_files``). Lines are split here rather than by Spark's CSV reader: a plain comma split for the common
line, a quote-aware split only for lines holding a double quote (a label with a comma). Every rule that rejects a
line is in :func:`reject_reason`, in the order of ``schemas.REJECT_REASONS`` (the first that applies wins).
Repeated identical rows are kept: CASAS writes them on purpose (an interval without input repeats the previous row
on the 10 Hz grid), so they are readings, not duplicates; nothing here removes or merges rows.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.casas.format import FILE_PREFIX, FILE_SUFFIX, HEADER_LINE, TYPES_LINE
from watchlake.jvm import CASAS_LINE_REASON, PARSE_CASAS_LINE
from watchlake.schemas import (
    CASAS_FIELDS,
    READINGS,
    REJECTED_READINGS,
)

LINES_DDL = "source_file string, participant string, value string"
# One CSV field per match (group 1): a quoted field with doubled quotes inside, or a run of non-commas; each match
# starts at the line start or at a comma. No look-around, so DuckDB's RE2 runs the same pattern (bench/clean).
FIELD_PATTERN = r'(?:^|,)("(?:[^"]|"")*"|[^,]*)'
STRING_FIELDS = ("location_type", "battery_state", "user_activity_label")


def select_data_lines(lines: DataFrame) -> DataFrame:
    """Drop the field-name and field-type rows (lines equal to ``HEADER_LINE`` / ``TYPES_LINE``); keep the rest.

    The job checks beforehand that each file starts with exactly these two rows, so this drops the two header rows
    of every file by value and nothing else.
    """
    return lines.where(~F.col("value").isin(HEADER_LINE, TYPES_LINE))


def participant_of(path: Column) -> Column:
    """The participant (``p12`` for ``.../sw1.p12.csv``) of a file path; null if the name does not fit.

    Prefix, suffix and substring cuts rather than a regular expression: same answer, a fraction of the cost per row.
    """
    name = F.substring_index(path, "/", -1)
    participant = F.substring_index(F.substring_index(name, ".", 2), ".", -1)
    fits = name.startswith(FILE_PREFIX) & name.endswith(FILE_SUFFIX) & (F.length(participant) > 1)
    return F.when(fits, participant)


def with_typed_fields(lines: DataFrame) -> DataFrame:
    """Add ``field_count`` and one typed column per CASAS field from the line in ``value``.

    ``stamp`` a timestamp (exactly ``casas.format.STAMP_PATTERN``, 1-6 fractional digits), floats doubles (what
    ``try_cast(.. AS DOUBLE)`` accepts), strings without their CSV quotes; null when the field is missing, empty or
    does not parse. Excel dialect: a line without a double quote is split at every comma, a line with one by
    ``FIELD_PATTERN`` (quoted fields keep their quotes until a string field drops them, so a quoted number or stamp
    does not parse; CASAS never quotes either). Quoted fields that span lines are not supported (their pieces get a
    wrong field count). The work is one Java call per line (``watchlake_parse_casas_line``): as ~60 Spark
    expressions it made one generated method so large that the JIT spent about 20 CPU seconds compiling it in every
    fresh process (bench/clean).
    """
    return _typed(_with_parse(lines)).drop(_PARSED)


# The parse of each line, as a column of its own: the function is declared non-deterministic (see
# ParseCasasLine.java), so Spark computes it once per line in this projection and copies it nowhere.
_PARSED = "_parsed"


def _with_parse(lines: DataFrame) -> DataFrame:
    return lines.withColumn(_PARSED, F.call_function(PARSE_CASAS_LINE, F.col("value")))


def _typed(parsed: DataFrame) -> DataFrame:
    fields = {"field_count": F.col(_PARSED)["field_count"]}
    fields |= {name: F.col(_PARSED)[name] for name in CASAS_FIELDS}
    return parsed.withColumns(fields).withColumn("stamp", F.timestamp_micros("stamp"))


def reject_reason() -> Column:
    """The first of ``schemas.REJECT_REASONS`` that applies to the line in ``value``, null for a line to keep.

    In that order: the line does not have the 20 fields; its stamp does not parse; a motion field is empty; a float
    field is present, not empty and does not parse (``1e-05``, ``nan`` and ``inf`` do parse); the battery state is
    neither empty nor one of ``schemas.BATTERY_STATES``; then ``charging`` and ``full`` (on the charger at 100 %),
    which are not wear time. ``unknown`` (battery monitoring off) and empty (no battery reading yet) are rows of a
    worn watch and are kept. One Java call per line (``watchlake_casas_line_reason``, split as
    :func:`with_typed_fields` splits), which decides without computing most values; the parse gives the same
    reason beside the values (:func:`to_readings` reads it there).
    """
    return F.call_function(CASAS_LINE_REASON, F.col("value"))


def with_reject_reason(lines: DataFrame) -> DataFrame:
    """Add ``reason``: :func:`reject_reason` of each line."""
    return lines.withColumn("reason", reject_reason())


def to_readings(lines: DataFrame) -> DataFrame:
    """Data lines (``LINES_DDL``, header rows dropped) -> the kept ones, typed, as ``schemas.READINGS`` (columns
    in that order, ``date`` from ``stamp``)."""
    kept = _with_parse(lines).where(F.col(_PARSED)["reason"].isNull()).transform(_typed)
    return kept.withColumn("date", F.to_date("stamp")).select(*READINGS.fieldNames())


def to_rejected(lines: DataFrame) -> DataFrame:
    """Data lines -> the rejected ones as ``schemas.REJECTED_READINGS``: the whole raw line and its reason."""
    rejected = lines.where(reject_reason().isNotNull()).withColumn("line", F.col("value"))
    return rejected.transform(with_reject_reason).select(*REJECTED_READINGS.fieldNames())


def split_readings(lines: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Data lines -> (readings, rejected); every line lands in exactly one of the two."""
    return to_readings(lines), to_rejected(lines)

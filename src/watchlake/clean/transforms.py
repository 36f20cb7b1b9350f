"""Pure transforms of the clean stage: staged CASAS text lines in, typed readings and rejected lines out.

Input is one row per text line, ``source_file string, participant string, value string`` (``LINES_DDL``): the
line as ``spark.read.text`` gives it, with its file's path and participant (from the file name, see
``files.list_staged_files``). Lines are split here rather than by Spark's CSV reader: a plain comma split for the common
line, a quote-aware split only for lines holding a double quote (a label with a comma). Every rule that rejects a
line is in :func:`with_reject_reason`, in the order of ``schemas.REJECT_REASONS`` (the first that applies wins).
Repeated identical rows are kept: CASAS writes them on purpose (an interval without input repeats the previous row
on the 10 Hz grid), so they are readings, not duplicates; nothing here removes or merges rows.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.casas.format import FILE_PREFIX, FILE_SUFFIX, HEADER_LINE, TYPES_LINE
from watchlake.jvm import PARSE_CASAS_LINE
from watchlake.schemas import (
    BATTERY_STATES,
    CASAS_FIELDS,
    FLOAT_FIELDS,
    MOTION_FIELDS,
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
    """Add ``field_count``, ``empty_fields`` and one typed column per CASAS field from the line in ``value``.

    ``stamp`` a timestamp (exactly ``casas.format.STAMP_PATTERN``, 1-6 fractional digits), floats doubles (what
    ``try_cast(.. AS DOUBLE)`` accepts), strings without their CSV quotes; null when the field is missing, empty or
    does not parse. ``empty_fields`` has bit i set when field i is present and empty, so the rules can tell an
    empty field from an unparseable one. Excel dialect: a line without a double quote is split at every comma, a
    line with one by ``FIELD_PATTERN`` (quoted fields keep their quotes until a string field drops them, so a quoted
    number or stamp does not parse; CASAS never quotes either). Quoted fields that span lines are not supported
    (their pieces get a wrong field count). The work is one Java call per line (``watchlake_parse_casas_line``): as ~60
    Spark expressions it made one generated method so large that the JIT spent about 20 CPU seconds compiling it in
    every fresh process (bench/clean).
    """
    parsed = F.call_function(PARSE_CASAS_LINE, F.col("value"))
    fields = {"field_count": parsed["field_count"], "empty_fields": parsed["empty_fields"]}
    fields |= {name: parsed[name] for name in CASAS_FIELDS}
    return lines.withColumns(fields).withColumn("stamp", F.timestamp_micros("stamp"))


def _empty(name: str) -> Column:
    """Whether the CASAS field ``name`` is present in the line and empty (its bit of ``empty_fields``)."""
    return F.col("empty_fields").bitwiseAND(F.lit(1 << CASAS_FIELDS.index(name))) != 0


def with_reject_reason(typed: DataFrame) -> DataFrame:
    """Add ``reason``: the first of ``schemas.REJECT_REASONS`` that applies to the line, null for a kept line.

    Needs the columns :func:`with_typed_fields` adds. A float field is unparseable when it is present, not empty
    and does not cast to double (``1e-05``, ``nan`` and ``inf`` do cast); a battery state must be
    empty or one of ``schemas.BATTERY_STATES`` exactly. ``charging`` and ``full`` (on the charger at 100 %) are not
    wear time and are set aside under their own reasons; ``unknown`` (battery monitoring off) and empty (no battery
    reading yet) are rows of a worn watch and are kept.
    """
    motion_bits = sum(1 << CASAS_FIELDS.index(name) for name in MOTION_FIELDS)
    missing_motion = F.col("empty_fields").bitwiseAND(F.lit(motion_bits)) != 0
    bad_number = F.lit(False)
    for name in FLOAT_FIELDS:
        bad_number = bad_number | (F.col(name).isNull() & ~_empty(name))
    battery = F.col("battery_state")
    reason = (
        F.when(F.col("field_count") != len(CASAS_FIELDS), "wrong_field_count")
        .when(F.col("stamp").isNull(), "unparseable_stamp")
        .when(missing_motion, "missing_motion")
        .when(bad_number, "unparseable_number")
        .when(~battery.isin(*BATTERY_STATES), "invalid_battery_state")
        .when(battery == "charging", "charging")
        .when(battery == "full", "full")
    )
    return typed.withColumn("reason", reason)


def to_parsed(lines: DataFrame) -> DataFrame:
    """Data lines (``LINES_DDL``, header rows already dropped) -> the ``READINGS`` columns, ``reason`` and ``line``.

    ``line`` is the raw line of a rejected row and null for a kept one, so a cached parse stays small.
    """
    parsed = lines.transform(with_typed_fields).transform(with_reject_reason)
    line = F.when(F.col("reason").isNotNull(), F.col("value")).alias("line")
    return parsed.withColumn("date", F.to_date("stamp")).select(*READINGS.fieldNames(), "reason", line)


def to_readings(parsed: DataFrame) -> DataFrame:
    """Kept lines of :func:`to_parsed` as ``schemas.READINGS`` (columns in that order, ``date`` from ``stamp``)."""
    return parsed.where(F.col("reason").isNull()).select(*READINGS.fieldNames())


def to_rejected(parsed: DataFrame) -> DataFrame:
    """Rejected lines of :func:`to_parsed` as ``schemas.REJECTED_READINGS``: the whole raw line and its reason."""
    return parsed.where(F.col("reason").isNotNull()).select(*REJECTED_READINGS.fieldNames())


def split_readings(lines: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Data lines -> (readings, rejected); every line lands in exactly one of the two."""
    parsed = to_parsed(lines)
    return to_readings(parsed), to_rejected(parsed)

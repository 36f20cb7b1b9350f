"""The clean job's rules in DuckDB SQL: the baseline the Spark job is measured against in ``bench/clean``.

Same input lines, same split (plain comma split, or ``FIELD_PATTERN`` for lines with a quote), same reject
reasons in the same order, same Parquet layout (readings by participant and date, rejected lines by reason).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watchlake.casas.format import HEADER_LINE, PARTICIPANT_PATTERN, STAMP_REGEX, TYPES_LINE
from watchlake.clean.transforms import FIELD_PATTERN, STRING_FIELDS
from watchlake.schemas import (
    BATTERY_STATES,
    CASAS_FIELDS,
    FLOAT_FIELDS,
    MOTION_FIELDS,
    READINGS,
    REJECT_REASONS,
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _field(name: str) -> str:
    return f"f[{CASAS_FIELDS.index(name) + 1}]"


def _unquoted(name: str) -> str:
    raw = _field(name)
    return (
        f"CASE WHEN length({raw}) >= 2 AND starts_with({raw}, '\"') AND ends_with({raw}, '\"') "
        f"THEN replace(substring({raw}, 2, length({raw}) - 2), '\"\"', '\"') ELSE {raw} END"
    )


def parsed_query(files: list[str]) -> str:
    """SELECT of every data line with participant, typed fields and ``reason`` (NULL for a kept line)."""
    listing = ", ".join(_quote(path) for path in files)
    typed = [
        f"CASE WHEN regexp_full_match({_field('stamp')}, {_quote(STAMP_REGEX)}) "
        f"THEN TRY_CAST({_field('stamp')} AS TIMESTAMP) END AS stamp",
        *(f"TRY_CAST({_field(name)} AS DOUBLE) AS {name}" for name in FLOAT_FIELDS),
        *(f"NULLIF({_unquoted(name)}, '') AS {name}" for name in STRING_FIELDS),
    ]
    missing = " OR ".join(f"{_field(name)} = ''" for name in MOTION_FIELDS)
    bad = " OR ".join(f"({_field(name)} <> '' AND {name} IS NULL)" for name in FLOAT_FIELDS)
    states = ", ".join(_quote(state) for state in BATTERY_STATES)
    return f"""
    WITH lines AS (
        SELECT filename AS source_file, coalesce(value, '') AS value
        FROM read_csv([{listing}], columns = {{'value': 'VARCHAR'}}, delim = '\\x1f', quote = '', escape = '',
                      header = false, auto_detect = false, filename = true, strict_mode = false)
    ), split AS (
        SELECT source_file, value,
               NULLIF(regexp_extract(source_file, {_quote(PARTICIPANT_PATTERN)}, 1), '') AS participant,
               CASE WHEN contains(value, '"') THEN regexp_extract_all(value, {_quote(FIELD_PATTERN)}, 1)
                    ELSE string_split(value, ',') END AS f
        FROM lines WHERE value NOT IN ({_quote(HEADER_LINE)}, {_quote(TYPES_LINE)})
    ), typed AS (
        SELECT source_file, value, participant, f, {", ".join(typed)} FROM split
    )
    SELECT * EXCLUDE (f),
        CASE WHEN len(f) <> {len(CASAS_FIELDS)} THEN 'wrong_field_count'
             WHEN stamp IS NULL THEN 'unparseable_stamp'
             WHEN {missing} THEN 'missing_motion'
             WHEN {bad} THEN 'unparseable_number'
             WHEN battery_state NOT IN ({states}) THEN 'invalid_battery_state'
             WHEN battery_state = 'charging' THEN 'charging'
             WHEN battery_state = 'full' THEN 'full' END AS reason
    FROM typed
    """


def clean(con: Any, files: list[str], readings_dir: Path, rejected_dir: Path) -> dict[str, Any]:
    """Run the cleaning on ``con`` (a DuckDB connection); returns rows kept and rejected rows per reason."""
    readings_dir.parent.mkdir(parents=True, exist_ok=True)
    rejected_dir.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"CREATE OR REPLACE TEMP TABLE parsed AS {parsed_query(files)}")
    columns = [name for name in READINGS.fieldNames() if name != "date"]
    con.execute(
        f"COPY (SELECT {', '.join(columns)}, CAST(stamp AS DATE) AS date FROM parsed WHERE reason IS NULL) "
        f"TO {_quote(str(readings_dir))} (FORMAT parquet, PARTITION_BY (participant, date), OVERWRITE true)"
    )
    con.execute(
        "COPY (SELECT participant, source_file, value AS line, reason FROM parsed WHERE reason IS NOT NULL) "
        f"TO {_quote(str(rejected_dir))} (FORMAT parquet, PARTITION_BY (reason), OVERWRITE true)"
    )
    counts = dict(
        con.execute("SELECT coalesce(reason, 'kept'), count(*) FROM parsed GROUP BY ALL").fetchall()
    )
    con.execute("DROP TABLE parsed")
    return {
        "rows_kept": int(counts.get("kept", 0)),
        "rejected_by_reason": {reason: int(counts.get(reason, 0)) for reason in REJECT_REASONS},
    }

"""The CASAS smartwatch CSV format in plain Python: header checks, a streaming reader and a writer.

Used by the sample generator, the bulk load (header checks before staging) and tests; Spark cleaning reads the
same files with its own parser and must agree with :func:`reject_reason` here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from watchlake.errors import FormatError
from watchlake.schemas import (
    BATTERY_STATES,
    CASAS_FIELDS,
    CASAS_TYPE_CODES,
    CASAS_TYPES,
    FLOAT_FIELDS,
    MOTION_FIELDS,
    STAMP_FORMAT,
)

LINE_END = "\r\n"
# The two header rows as lines without their line end (the clean job drops them by value), and as written.
HEADER_LINE = ",".join(CASAS_FIELDS)
TYPES_LINE = ",".join(CASAS_TYPES)
HEADER = HEADER_LINE + LINE_END + TYPES_LINE + LINE_END

# A participant file is named sw1.p<number>.csv, the participant id being p<number>. FILE_GLOB selects the
# candidates (fnmatch, pathlib, Hadoop's pathGlobFilter); PARTICIPANT_PATTERN (group 1: the id) decides, searched
# in a whole "/"-separated path or URI (Python re, RE2 and Java regex read it alike).
FILE_PREFIX = "sw1.p"
FILE_SUFFIX = ".csv"
FILE_GLOB = f"{FILE_PREFIX}*{FILE_SUFFIX}"
PARTICIPANT_PATTERN = r"(?:^|/)sw1\.(p\d+)\.csv$"

# A stamp is YYYY-mm-dd HH:MM:SS with 1-6 fractional digits: STAMP_REGEX checks the text, STAMP_PATTERN is the
# Spark datetime pattern that parses (and writes) it; ``schemas.STAMP_FORMAT`` is Python's strptime spelling.
STAMP_REGEX = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{1,6}"
STAMP_PATTERN = "yyyy-MM-dd HH:mm:ss.SSSSSS"  # Spark accepts up to as many fraction digits as there are S

_PARTICIPANT = re.compile(PARTICIPANT_PATTERN)
_STAMP = re.compile(f"^{STAMP_REGEX}$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:nan|inf)$")
_MOTION_INDEX = tuple(CASAS_FIELDS.index(name) for name in MOTION_FIELDS)
_FLOAT_INDEX = tuple(CASAS_FIELDS.index(name) for name in FLOAT_FIELDS)
_BATTERY_INDEX = CASAS_FIELDS.index("battery_state")
_VALID_BATTERY = frozenset({"", *BATTERY_STATES})

Value = datetime | float | str | None


@dataclass(frozen=True)
class Row:
    """One data row as split by the csv module: ``line`` is its 1-based row number in the file (headers are 1, 2)."""

    line: int
    fields: list[str]


def participant_from_path(path: str | Path) -> str:
    """The participant id of a CASAS file: ``.../sw1.p12.csv`` -> ``p12``; any other name is a FormatError."""
    match = _PARTICIPANT.search(str(path).replace("\\", "/"))
    if not match:
        raise FormatError(f"{path}: not a CASAS participant file; expected a name like sw1.p12.csv")
    return match.group(1)


def file_name(participant: str) -> str:
    """The CASAS file name of a participant id: ``p12`` -> ``sw1.p12.csv`` (the inverse of participant_from_path)."""
    return f"sw1.{participant}{FILE_SUFFIX}"


def validate_header(names: Sequence[str] | None, types: Sequence[str] | None, source: str) -> None:
    """Check the two header rows of ``source``; raise FormatError naming the file and row on any mismatch."""
    if names is None:
        raise FormatError(f"{source}: file is empty; expected the two CASAS header rows (names, types)")
    if types is None:
        raise FormatError(f"{source}: row 2 (field types) is missing; the file has only one line")
    if tuple(names) != CASAS_FIELDS:
        unknown = [name for name in names if name not in CASAS_FIELDS]
        detail = f"unknown names {unknown}" if unknown else "names missing or out of order"
        raise FormatError(
            f"{source}: row 1 (field names) has {len(names)} fields, {detail}; "
            f"expected the 20 CASAS names {','.join(CASAS_FIELDS)}"
        )
    if len(types) != len(names):
        raise FormatError(
            f"{source}: row 2 (field types) has {len(types)} fields but row 1 has {len(names)}; "
            "both header rows must have the same length"
        )
    bad = sorted({code for code in types if code not in CASAS_TYPE_CODES})
    if bad:
        raise FormatError(f"{source}: row 2 (field types) has unknown type codes {bad}; allowed: dt, f, s")
    if tuple(types) != CASAS_TYPES:
        wrong = [name for name, code, want in zip(names, types, CASAS_TYPES, strict=True) if code != want]
        raise FormatError(f"{source}: row 2 (field types) gives the wrong type for {wrong}")


def _open_text(source: str | Path | IO[bytes]) -> IO[str]:
    if isinstance(source, str | Path):
        return open(source, encoding="utf-8", newline="")
    return io.TextIOWrapper(source, encoding="utf-8", newline="")


def check_header(source: str | Path | IO[bytes], name: str | None = None) -> None:
    """Validate the header rows of a CASAS file (a path or a binary stream) reading only its first two lines."""
    label = name or str(source)
    stream = _open_text(source)
    try:
        reader = csv.reader(stream)
        validate_header(next(reader, None), next(reader, None), label)
    except (csv.Error, UnicodeDecodeError) as error:
        raise FormatError(f"{label}: header rows are not readable CSV text: {error}") from None
    finally:
        if isinstance(source, str | Path):
            stream.close()
        else:
            stream.detach()


def iter_rows(source: str | Path | IO[bytes], name: str | None = None) -> Iterator[Row]:
    """Stream the data rows of a CASAS file after validating its header (LF or CRLF; quoted fields allowed).

    Rows come back unparsed, as the list of fields the csv module splits them into, so callers see every defect.
    """
    label = name or str(source)
    stream = _open_text(source)
    try:
        reader = csv.reader(stream)
        validate_header(next(reader, None), next(reader, None), label)
        for line, fields in enumerate(reader, start=3):
            yield Row(line, fields)
    finally:
        if isinstance(source, str | Path):
            stream.close()
        else:
            stream.detach()


def parse_stamp(text: str) -> datetime | None:
    """A CASAS stamp (``YYYY-mm-dd HH:MM:SS.f`` with 1-6 fractional digits) as a naive datetime; None if invalid."""
    if not _STAMP.match(text):
        return None
    try:
        return datetime.strptime(text, STAMP_FORMAT)
    except ValueError:
        return None


def is_number(text: str) -> bool:
    """True if ``text`` is a decimal or exponent float as Python's repr writes it (also nan / inf)."""
    return bool(_NUMBER.match(text))


def reject_reason(fields: Sequence[str]) -> str | None:
    """The first of ``schemas.REJECT_REASONS`` that applies to a split row, or None if cleaning keeps it."""
    if len(fields) != len(CASAS_FIELDS):
        return "wrong_field_count"
    if parse_stamp(fields[0]) is None:
        return "unparseable_stamp"
    if any(fields[index] == "" for index in _MOTION_INDEX):
        return "missing_motion"
    if any(fields[index] != "" and not is_number(fields[index]) for index in _FLOAT_INDEX):
        return "unparseable_number"
    battery = fields[_BATTERY_INDEX]
    if battery not in _VALID_BATTERY:
        return "invalid_battery_state"
    if battery in ("charging", "full"):
        return battery  # on the charger: not wear time
    return None


def parse_row(fields: Sequence[str]) -> dict[str, Value]:
    """A valid row as typed values (empty field -> None). Call only when :func:`reject_reason` gives None."""
    values: dict[str, Value] = {}
    for name, code, text in zip(CASAS_FIELDS, CASAS_TYPES, fields, strict=True):
        if text == "":
            values[name] = None
        elif code == "dt":
            values[name] = parse_stamp(text)
        elif code == "f":
            values[name] = float(text)
        else:
            values[name] = text
    return values


def format_value(value: Value) -> str:
    """One field as CASAS writes it: repr floats, 6-digit stamps, strings unchanged, None as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(STAMP_FORMAT)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def quote(text: str) -> str:
    """A field as the csv module's excel dialect writes it: quoted only if it holds a comma, quote or newline."""
    if any(char in text for char in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class CasasWriter:
    """Writes CASAS files exactly: both header rows, then rows of values (excel dialect, CRLF)."""

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, dialect="excel")
        self._writer.writerow(CASAS_FIELDS)
        self._writer.writerow(CASAS_TYPES)

    def write(self, row: Sequence[Value]) -> None:
        """Write one row of Python values; a wrong number of values is a FormatError (use write_raw for defects)."""
        if len(row) != len(CASAS_FIELDS):
            raise FormatError(f"a CASAS row has {len(CASAS_FIELDS)} values, got {len(row)}")
        self._writer.writerow([format_value(value) for value in row])

    def write_raw(self, fields: Iterable[str]) -> None:
        """Write already formatted fields unchecked (for fixtures with planted defects)."""
        self._writer.writerow(list(fields))

"""Fast rendering of a planned participant file into exact CASAS text (repr floats, 6-digit stamps, CRLF).

Columns are formatted with list-level ``map(repr, ...)`` and joined per row; location and battery/label parts
are pre-joined strings picked by index, because they repeat between readings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from watchlake.casas.format import HEADER, LINE_END, quote
from watchlake.schemas import STAMP_FORMAT

if TYPE_CHECKING:
    from watchlake.casas.plan import FilePlan

_EPOCH = datetime(1970, 1, 1)
_SECONDS_FORMAT = STAMP_FORMAT.removesuffix(".%f")  # whole seconds; the tenths are appended from _FRACTIONS
_FRACTIONS = tuple(f".{digit}00000" for digit in range(10))
_BATTERY_TEXT = ("", "unplugged", "charging", "full", "unknown")  # by plan battery code (plan.EMPTY ...)
_EMPTY_LOCATION = "," * 7  # eight empty fields: location_type and the seven location floats

# Planted defect variants, chosen by row number; each breaks exactly one rule of schemas.REJECT_REASONS.
BAD_STAMPS = ("", "not a stamp", "2019-06-01 25:61:00.100000", "06/01/2019 10:00:00.1")
BAD_NUMBERS = ("1.2.3", "n/a", "0.5x", "--0.25")
BAD_BATTERY = ("discharging", "low", "Full")  # Apple's states are lower case: "Full" is not one


def stamp_strings(ticks: np.ndarray) -> list[str]:
    """Stamps of 0.1 s ticks since 1970-01-01 (naive local time) as ``YYYY-mm-dd HH:MM:SS.f00000``."""
    seconds, tenths = np.divmod(ticks, 10)
    unique, inverse = np.unique(seconds, return_inverse=True)
    texts = [(_EPOCH + timedelta(seconds=int(s))).strftime(_SECONDS_FORMAT) for s in unique.tolist()]
    return [texts[i] + _FRACTIONS[f] for i, f in zip(inverse.tolist(), tenths.tolist(), strict=True)]


def location_strings(plan: FilePlan) -> list[str]:
    """One pre-joined location part (8 fields) per fix, plus the empty part last (index -1 = before any fix)."""
    fixes = plan.fixes
    parts = [
        ",".join([quote(place), *map(repr, row)])
        for place, row in zip(fixes.places, fixes.values.tolist(), strict=True)
    ]
    return [*parts, _EMPTY_LOCATION]


def _defect_line(line: str, reason: str, row: int) -> str:
    fields = line.split(",")  # defect rows carry no label, so no quoted commas
    if reason == "wrong_field_count":
        return ",".join(fields[:-1]) if row % 2 == 0 else line + ","
    if reason == "unparseable_stamp":
        fields[0] = BAD_STAMPS[row % len(BAD_STAMPS)]
    elif reason == "missing_motion":
        fields[1 + row % 9] = ""
    elif reason == "unparseable_number":
        fields[1 + row % 9] = BAD_NUMBERS[row % len(BAD_NUMBERS)]
    elif reason == "invalid_battery_state":
        fields[18] = BAD_BATTERY[row % len(BAD_BATTERY)]
    return ",".join(fields)


def render_lines(plan: FilePlan, start: int, stop: int, places: list[str]) -> list[str]:
    """The data lines (without line ends) of rows ``start:stop``, defects applied, duplicate lines inserted."""
    motion = plan.motion[start:stop]
    columns = [stamp_strings(plan.ticks[start:stop])]
    columns += [list(map(repr, motion[:, k].tolist())) for k in range(9)]
    fix_index = np.searchsorted(plan.fixes.rows, np.arange(start, stop), side="right") - 1
    columns.append([places[i] for i in fix_index.tolist()])
    tails = [_BATTERY_TEXT[code] + "," for code in plan.battery[start:stop].tolist()]
    for row, label in plan.labels.items():
        if start <= row < stop:
            tails[row - start] += quote(label)
    columns.append(tails)
    lines = list(map(",".join, zip(*columns, strict=True)))
    for row, reason in plan.defects.items():
        if start <= row < stop:
            lines[row - start] = _defect_line(lines[row - start], reason, row)
    for row in reversed([r for r in plan.duplicates if start <= r < stop]):
        lines.insert(row - start + 1, lines[row - start])
    return lines


def iter_chunks(plan: FilePlan, chunk_rows: int = 100_000) -> Iterator[bytes]:
    """The whole file as byte chunks: headers, then data lines; the last line is cut if ``plan.truncate``."""
    yield HEADER.encode("ascii")
    places = location_strings(plan)
    rows = len(plan.ticks)
    for start in range(0, rows, chunk_rows):
        stop = min(rows, start + chunk_rows)
        lines = render_lines(plan, start, stop, places)
        if plan.truncate and stop == rows:
            # Cut the last line inside the rotation fields and drop its line end: wrong_field_count.
            head = lines[-1].split(",")[:5]
            lines[-1] = ",".join(head)[:-2]
            yield (LINE_END.join(lines)).encode("utf-8")
        else:
            yield (LINE_END.join(lines) + LINE_END).encode("utf-8")


def write_file(plan: FilePlan, stream: BinaryIO) -> int:
    """Write a planned file to a binary stream; returns the bytes written."""
    written = 0
    for chunk in iter_chunks(plan):
        stream.write(chunk)
        written += len(chunk)
    return written

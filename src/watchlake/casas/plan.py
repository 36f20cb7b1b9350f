"""Plans of sample participant files: timeline, activities, motion, location, labels and planted defects.

Every file has the quirks of the real archives (gaps, a night gap, a backward jump, repeated rows, late location
fixes, charging stretches ending ``full``, a worn stretch with battery monitoring off (``unknown``), single-row raw
labels) and planted defects, one reject reason each, counted exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from watchlake.casas import activities as act
from watchlake.casas.format import file_name
from watchlake.schemas import REJECT_REASONS

# Battery codes of a plan (render.py writes their text): empty before the first battery reading, then Apple's states.
EMPTY, UNPLUGGED, CHARGING, FULL, UNKNOWN = range(5)
# Reject reasons that come from the battery state of an ordinary row, not from a planted defect.
ON_CHARGER = {CHARGING: "charging", FULL: "full"}

ROWS_PER_HOUR = 36_000  # 10 Hz
LABEL_SPAN_ROWS = 3000  # 300 s of rows before a label must be the labelled activity
DEFECT_RATE = 1e-4  # planted rows per reason, at least one per file
_TICK_DAY = 864_000
_EPOCH = datetime(1970, 1, 1)


@dataclass
class FilePlan:
    """Everything needed to write one participant file; row indexes count data rows before duplicate lines."""

    participant: str
    member: str
    ticks: np.ndarray  # 0.1 s ticks since 1970-01-01, naive local time
    motion: np.ndarray  # (rows, 9)
    fixes: act.Fixes
    battery: np.ndarray  # battery codes: EMPTY, UNPLUGGED, CHARGING, FULL, UNKNOWN
    segments: list[tuple[int, int, str]]  # (first row, last row, class or "charging")
    labels: dict[int, str] = field(default_factory=dict)
    defects: dict[int, str] = field(default_factory=dict)
    duplicates: list[int] = field(default_factory=list)
    truncate: bool = False


def _timeline(rng: np.random.Generator, rows: int, number: int) -> tuple[np.ndarray, dict[str, int]]:
    """Ticks with a >10 s gap, a night gap across midnight and a one-hour backward jump; event rows returned."""
    events = {
        "gap": rows // 4,
        "day_charge": (rows * 2) // 5,
        "night": (rows * 11) // 20,
        "jump": (rows * 4) // 5,
    }
    ticks = np.arange(rows, dtype=np.int64)
    ticks[events["gap"] :] += 100 + int(rng.integers(1, 500))
    ticks[events["night"] :] += 8 * 36_000 + int(rng.integers(0, 6000))
    ticks[events["jump"] :] -= 36_000
    day = (datetime(2019, 6, 3) - _EPOCH).days + number % 40
    night_start = day * _TICK_DAY + 23 * 36_000 + 5 * 6000 + int(rng.integers(0, 3000))
    return ticks + (night_start - ticks[max(events["night"] - 1, 0)]), events


def _battery(rows: int, events: dict[str, int]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Battery codes per row and the stretches on the charger (before the night, and a short one by day).

    Empty for 3 rows (no battery reading yet), then unplugged; the night's stretch is charging for its first two
    thirds and full (at 100 % on the charger) for the rest; a worn stretch after the gap is unknown (battery
    monitoring off), which cleaning keeps.
    """
    battery = np.full(rows, UNPLUGGED, dtype=np.int8)
    battery[: min(3, rows)] = EMPTY
    night = events["night"]
    spans = [
        (max(3, night - max(10, rows // 20)), night),
        (events["day_charge"], events["day_charge"] + rows // 100),
    ]
    for first, stop in spans:
        battery[first:stop] = CHARGING
    first, stop = spans[0]
    battery[first + (stop - first) * 2 // 3 : stop] = FULL
    unknown = events["gap"] + max(5, rows // 40)
    battery[unknown : unknown + max(3, rows // 50)] = UNKNOWN
    return battery, spans


def _segments(
    rng: np.random.Generator, rows: int, events: dict[str, int], charge: list[tuple[int, int]]
) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """Activity segments cut at every timeline event; segments inside a charging stretch are ``charging``."""
    breaks = [events["gap"], events["night"], events["jump"], *(b for span in charge for b in span)]
    starts, codes = act.draw_segments(rng, rows, breaks)
    names = [act.CLASSES[code] for code in codes]
    for index, start in enumerate(starts.tolist()):
        if any(first <= start < stop for first, stop in charge):
            names[index] = "charging"
    ends = [*(starts[1:] - 1).tolist(), rows - 1]
    # Everyone eats: the longest activity is a meal, so every file gets an "Eat, drink" label (quoted comma).
    lengths = [
        end - start if name != "charging" else -1
        for start, end, name in zip(starts.tolist(), ends, names, strict=True)
    ]
    names[int(np.argmax(lengths))] = "Mealtime"
    return starts, [(int(s), int(e), n) for s, e, n in zip(starts.tolist(), ends, names, strict=True)]


def _labels(rng: np.random.Generator, segments: list[tuple[int, int, str]], rows: int) -> dict[int, str]:
    """Label rows: >= 300 s into their segment, 2-10 min apart (some < 300 s); short files label segment ends."""
    labels: dict[int, str] = {}
    for first, last, name in segments:
        if name == "charging":
            continue
        row = first + LABEL_SPAN_ROWS + int(rng.integers(0, 600))
        while row < min(last, rows - 2):
            labels[row] = str(rng.choice(act.RAW_LABELS[name]))
            row += int(rng.integers(1200, 6000))
    if not labels:
        for first, last, name in segments:
            if name != "charging" and first < last < rows - 2:
                labels[last] = str(rng.choice(act.RAW_LABELS[name]))
    # Every file gets a label holding a comma (quoted in the CSV) where its class has such a variant.
    for row in sorted(labels):
        with_comma = [raw for raw in act.RAW_LABELS[_class_at(segments, row)] if "," in raw]
        if with_comma:
            labels[row] = with_comma[0]
            break
    return labels


def _class_at(segments: list[tuple[int, int, str]], row: int) -> str:
    for first, last, name in segments:
        if first <= row <= last:
            return name
    raise ValueError(f"row {row} is in no segment")


def plan_file(seed: int, number: int, hours: float, truncate: bool = False) -> FilePlan:
    """Plan participant ``number``'s file of ``hours`` hours of 10 Hz rows, deterministic in (seed, number)."""
    rng = np.random.default_rng([seed, number])
    rows = max(200, round(hours * ROWS_PER_HOUR))
    ticks, events = _timeline(rng, rows, number)
    battery, charge = _battery(rows, events)
    starts, segments = _segments(rng, rows, events, charge)
    signatures = [act.CHARGING if name == "charging" else act.SIGNATURES[name] for _, _, name in segments]
    motion = act.motion(rng, starts, signatures, rows)
    fix_rows = np.arange(int(rng.integers(20, max(21, min(3000, rows // 5)))), rows, 3000, dtype=np.int64)
    fix_rows = np.unique(np.clip(fix_rows + rng.integers(-600, 600, len(fix_rows)), 20, rows - 1))
    segment_of = np.searchsorted(starts, fix_rows, side="right") - 1
    fixes = act.location_fixes(rng, fix_rows, [signatures[i] for i in segment_of], act.homes_of(rng))
    plan = FilePlan(
        f"p{number}", file_name(f"p{number}"), ticks, motion, fixes, battery, segments, truncate=truncate
    )
    plan.labels = _labels(rng, segments, rows)
    _plant(rng, plan)
    return plan


def _plant(rng: np.random.Generator, plan: FilePlan) -> None:
    """Repeated rows, exact duplicate lines, exponent floats and one-reason defects on ordinary rows."""
    rows = len(plan.ticks)
    for first in rng.choice(rows - 6, size=max(2, rows // 400), replace=False).tolist():
        length = int(rng.integers(1, 5))
        plan.motion[first + 1 : first + 1 + length] = plan.motion[first]
    free = plan.battery == UNPLUGGED
    free[list(plan.labels)] = False
    free[-2:] = False
    candidates = np.flatnonzero(free)
    defect_reasons = [reason for reason in REJECT_REASONS if reason not in ON_CHARGER.values()]
    per_reason = max(1, round(rows * DEFECT_RATE))
    picked = rng.choice(candidates, size=per_reason * len(defect_reasons) + 4, replace=False).tolist()
    for index, row in enumerate(picked[: per_reason * len(defect_reasons)]):
        plan.defects[row] = defect_reasons[index // per_reason]
    plan.duplicates = sorted(picked[-4:-2])
    plan.motion[picked[-2], 3] = 1e-05  # CASAS writes such small values in exponent form
    plan.motion[picked[-1], 7] = -2.5e-06


def planted_counts(plan: FilePlan) -> dict[str, object]:
    """Rows written and rows per reject reason of a plan, as cleaning must find them."""
    rejected = dict.fromkeys(REJECT_REASONS, 0)
    for reason in plan.defects.values():
        rejected[reason] += 1
    rejected["wrong_field_count"] += int(plan.truncate)
    for code, reason in ON_CHARGER.items():
        rejected[reason] = int(np.count_nonzero(plan.battery == code))
    data_rows = len(plan.ticks) + len(plan.duplicates)
    return {
        "participant": plan.participant,
        "data_rows": data_rows,
        "rejected": rejected,
        "kept_rows": data_rows - sum(rejected.values()),
        "exact_duplicate_lines": len(plan.duplicates),
        "truncated_last_line": plan.truncate,
        "labels": len(plan.labels),
    }


def ground_truth(plan: FilePlan) -> dict[str, object]:
    """Segments and labels by file line number (1-based, headers are lines 1-2) and stamp."""
    shift = np.asarray(plan.duplicates, dtype=np.int64)

    def line(row: int) -> int:
        return row + 3 + int(np.searchsorted(shift, row, side="left"))

    def stamp(row: int) -> str:
        tick = int(plan.ticks[row])
        return (_EPOCH + timedelta(seconds=tick // 10)).strftime("%Y-%m-%d %H:%M:%S") + f".{tick % 10}00000"

    return {
        "segments": [[line(a), line(b), stamp(a), stamp(b), name] for a, b, name in plan.segments],
        "labels": [
            [line(r), stamp(r), raw, _class_at(plan.segments, r)] for r, raw in sorted(plan.labels.items())
        ],
    }

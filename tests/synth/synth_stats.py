"""Hand-made ``ActivityStats`` with distinct, known numbers per class, for generator tests (no Spark needed)."""

from __future__ import annotations

import numpy as np

from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS
from watchlake.stats.model import ActivityStats, ClassStats, Summary

SHARES = {"Relax": 0.5, "Exercise": 0.3, "Travel": 0.2}
LOCATIONS = {
    "Relax": {None: 0.1, "house": 0.8, "work": 0.1},
    "Exercise": {None: 0.2, "road": 0.5, "attraction": 0.3},
    "Travel": {None: 0.05, "road": 0.9, "store": 0.05},
}
# States of worn watches only, as cleaned readings hold them (charging and full rows are not wear time).
BATTERY = {
    "Relax": {"unplugged": 0.9, "unknown": 0.1},
    "Exercise": {"unplugged": 1.0},
    "Travel": {"unplugged": 0.7, "unknown": 0.2, None: 0.1},
}
SCALE = {"Relax": 0.2, "Exercise": 2.0, "Travel": 0.8}


def correlation(strength: float) -> tuple[tuple[float, ...], ...]:
    """A valid 9x9 correlation matrix: yaw/pitch/roll correlate by ``strength``, acceleration axes by -strength/2."""
    matrix = np.eye(len(MOTION_FIELDS))
    for block, rho in (((0, 1, 2), strength), ((6, 7, 8), -strength / 2)):
        for i in block:
            for j in block:
                if i != j:
                    matrix[i, j] = rho
    return tuple(tuple(float(v) for v in row) for row in matrix)


def _summary(mean: float, sd: float, null_fraction: float = 0.0) -> Summary:
    # A wide observed range, so clipping hardly moves the moments (tests compare moments tightly).
    return Summary(10_000, mean, sd, mean - 6 * sd, mean + 6 * sd, null_fraction, {0.5: mean})


def class_stats(name: str, index: int) -> ClassStats:
    scale = SCALE[name]
    numeric = {
        column: _summary(0.1 * (i + 1) * (index + 1), scale * (1 + i / 10))
        for i, column in enumerate(MOTION_FIELDS)
    }
    location_null = LOCATIONS[name][None]
    for i, column in enumerate(LOCATION_FIELDS):
        numeric[column] = _summary(5.0 * (index + 1) + i, 1.0 + index, location_null)
    return ClassStats(
        name=name,
        numeric=numeric,
        correlation=correlation(0.3 + 0.2 * index),
        location_type=LOCATIONS[name],
        battery_state=BATTERY[name],
        segment_seconds=Summary(100, 60.0 * (index + 1), 20.0, 10.0, 600.0),
    )


def make_stats() -> ActivityStats:
    classes = {name: class_stats(name, i) for i, name in enumerate(SHARES)}
    return ActivityStats(
        overall=class_stats("Relax", 0),
        classes=classes,
        class_shares={**{name: 0.8 * share for name, share in SHARES.items()}, None: 0.2},
        raw_label_counts={name.lower(): 10 for name in SHARES},
        interval_seconds=0.1,
        sampling_hz=10.0,
    )

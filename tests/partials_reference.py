"""``watchlake_second_partials`` as its Javadoc specifies it, in plain Python: the reference the Java function and
the window features are checked against."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from watchlake.features.partials import CHANNELS, KM_PER_DEGREE, LOCATION_TYPES, MAGNITUDES, SLOTS
from watchlake.schemas import MOTION_FIELDS


def _channel(values: list[float]) -> dict[str, float]:
    return {
        "sum": sum(values),
        "sum2": sum(v**2 for v in values),
        "sum3": sum(v**3 for v in values),
        "sum4": sum(v**4 for v in values),
        "min": min(values),
        "max": max(values),
        "abs_change": sum(abs(b - a) for a, b in itertools.pairwise(values)),
    }


def reference_partials(
    motion: dict[str, Sequence[float]],
    speed: Sequence[float | None],
    latitude: Sequence[float | None],
    longitude: Sequence[float | None],
    location_type: Sequence[str | None],
    battery_state: Sequence[str | None],
) -> list[float]:
    """Partials of one run, in ``SLOTS`` order; ``motion`` maps each MOTION_FIELDS axis to its readings."""
    n = len(motion[MOTION_FIELDS[0]])
    channels = {axis: list(motion[axis]) for axis in MOTION_FIELDS}
    for name, axes in MAGNITUDES.items():
        channels[name] = [math.sqrt(sum(motion[a][k] ** 2 for a in axes)) for k in range(n)]
    out = {"readings": n, "changes": max(n - 1, 0)}
    for channel in CHANNELS:
        out |= {f"{channel}_{part}": value for part, value in _channel(channels[channel]).items()}
    speeds = [s for s in speed if s is not None and s >= 0]
    distances = [
        math.hypot(lat * KM_PER_DEGREE, lon * KM_PER_DEGREE)
        for lat, lon in zip(latitude, longitude, strict=True)
        if lat is not None and lon is not None
    ]
    kinds = [t.strip(" ").lower() for t in location_type if t is not None]
    out |= {
        "speed_sum": sum(speeds),
        "speed_count": len(speeds),
        "speed_max": max(speeds, default=-math.inf),
        "distance_sum": sum(distances),
        "distance_count": len(distances),
        "location_known": len(kinds),
        "battery_full": sum(1 for b in battery_state if b is not None and b.lower() == "full"),
    }
    for kind in LOCATION_TYPES:
        out[f"location_{kind}"] = sum(
            1 for k in kinds if k == kind or (kind == "other" and k not in LOCATION_TYPES)
        )
    return [float(out[name]) for name, _ in SLOTS]

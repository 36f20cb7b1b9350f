"""What the page and the API show of a queued window (pure: a queued window and its readings in, plain data out)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from watchlake.annotate.queue import Lease, QueuedWindow
from watchlake.annotate.readings import MOTION_AXES, WindowReadings

_MISSING = -1.0  # a context feature of a window without location readings (features.transforms.MISSING)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def location_type_mode(features: dict[str, float]) -> str:
    """The model's categorical input ``location_type_mode`` from a window's ``location_<kind>_fraction`` features:
    the first kind (in feature order) with the largest share above 0, else ``unknown`` (as the JVM's
    ``WindowFeatures`` picks it from the same counts); the queue row keeps only the numeric features."""
    mode, best = "unknown", 0.0
    for name, value in features.items():
        kind = (
            name.startswith("location_") and name.endswith("_fraction") and name != "location_known_fraction"
        )
        if kind and value > best:
            mode, best = name[len("location_") : -len("_fraction")], value
    return mode


def context_of(features: dict[str, float]) -> dict[str, Any]:
    """The window's context from its features: most frequent location kind, mean and top speed (m/s), share of
    time at a full battery, the UTC hour of day the model saw (from hour_sin / hour_cos)."""
    kinds = {
        name[len("location_") : -len("_fraction")]: value
        for name, value in features.items()
        if name.startswith("location_") and name.endswith("_fraction") and name != "location_known_fraction"
    }
    known = features.get("location_known_fraction", 0.0)
    kind = (
        max(kinds, key=lambda k: kinds[k]) if kinds and known > 0 and max(kinds.values()) > 0 else "unknown"
    )
    speed = features.get("speed_mean", _MISSING)
    top = features.get("speed_max", _MISSING)
    hour = None
    if "hour_sin" in features and "hour_cos" in features:
        hour = (math.atan2(features["hour_sin"], features["hour_cos"]) * 24 / (2 * math.pi)) % 24
    return {
        "location": kind,
        "location_known": known,
        "speed_mean": None if speed == _MISSING else speed,
        "speed_max": None if top == _MISSING else top,
        "battery_full": features.get("battery_full_fraction"),
        "hour": None if hour is None else f"{int(hour):02d}:{round((hour % 1) * 60) % 60:02d}",
        "readings": int(features.get("rows", 0)),
    }


def window_summary(window: QueuedWindow) -> dict[str, Any]:
    """The JSON a client sees of a window (never the ground truth: the queue row does not hold it)."""
    return {
        "device_id": window.device_id,
        "window_start": _iso(window.window_start),
        "window_end": _iso(window.window_end),
        "predicted_class": window.predicted_class,
        "confidence": window.probabilities.get(window.predicted_class),
        "top": [{"class": name, "probability": p} for name, p in window.top(3)],
        "classes": window.classes,
        "model_version": window.model_version,
        "doubt": window.doubt,
        "context": context_of(window.features),
    }


def lease_summary(lease: Lease) -> dict[str, Any]:
    return {
        "lease_id": lease.lease_id,
        "annotator": lease.annotator,
        "expires_at": _iso(lease.expires_at),
        "window": window_summary(lease.window),
    }


def plot_data(window: QueuedWindow, readings: WindowReadings | None) -> dict[str, Any]:
    """uPlot series: the six motion axes at 10 Hz and |acceleration|, |rotation rate| per reading when Kafka still
    holds the window; else the queue row's per-second |acceleration| and |rotation rate| alone."""
    if readings is not None and readings.seconds:
        acc = [
            math.sqrt(sum(readings.axes[a][i] ** 2 for a in MOTION_AXES[:3]))
            for i in range(len(readings.seconds))
        ]
        rot = [
            math.sqrt(sum(readings.axes[a][i] ** 2 for a in MOTION_AXES[3:]))
            for i in range(len(readings.seconds))
        ]
        return {
            "source": "kafka",
            "seconds": readings.seconds,
            "axes": {axis: readings.axes[axis] for axis in MOTION_AXES},
            "acceleration": acc,
            "rotation": rot,
        }
    points = sorted(window.signal, key=lambda point: point["t"])
    return {
        "source": "queue",
        "seconds": [point["t"] for point in points],
        "axes": {},
        "acceleration": [point["a"] for point in points],
        "rotation": [point["r"] for point in points],
    }

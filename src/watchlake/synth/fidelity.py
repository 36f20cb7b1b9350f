"""Fidelity of generated watches: their statistics versus the source statistics, per class and column.

Relative error of the mean is ``|generated - source| / max(|source mean|, source sd)`` (a mean near 0 would make
the plain relative error meaningless); of the sd ``|generated - source| / source sd``. KS statistics compare
samples of the source readings with samples of generated rows (two-sample Kolmogorov-Smirnov, scipy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.stats import ks_2samp

from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS
from watchlake.stats.model import ActivityStats, Summary

NUMERIC = MOTION_FIELDS + LOCATION_FIELDS
Samples = Mapping[str, Mapping[str, np.ndarray]]  # class -> column -> values (NaN-free)


def _relative(found: float, expected: float, scale: float) -> float | None:
    if not (math.isfinite(found) and math.isfinite(expected)) or scale <= 0 or not math.isfinite(scale):
        return None
    return abs(found - expected) / scale


def compare_numeric(source: Summary, generated: Summary) -> dict[str, float | None]:
    """Moments of one column in one class, side by side with their relative errors."""
    mean_scale = max(abs(source.mean), source.sd if math.isfinite(source.sd) else 0.0)
    return {
        "mean_source": source.mean,
        "mean_generated": generated.mean,
        "mean_relative_error": _relative(generated.mean, source.mean, mean_scale),
        "sd_source": source.sd,
        "sd_generated": generated.sd,
        "sd_relative_error": _relative(generated.sd, source.sd, source.sd),
        "missing_source": source.null_fraction,
        "missing_generated": generated.null_fraction,
    }


def compare_shares(
    source: Mapping[Any, float], generated: Mapping[Any, float]
) -> dict[str, dict[str, float]]:
    """Shares of every category (``"<missing>"`` for NULL) in source and generated data."""
    keys = set(source) | set(generated)
    return {
        "<missing>" if key is None else str(key): {
            "source": source.get(key, 0.0),
            "generated": generated.get(key, 0.0),
        }
        for key in sorted(keys, key=lambda k: (k is not None, str(k)))
    }


def ks_statistic(source: np.ndarray, generated: np.ndarray) -> float | None:
    if len(source) < 2 or len(generated) < 2:
        return None
    return float(ks_2samp(source, generated).statistic)


def compare(
    source: ActivityStats,
    generated: ActivityStats,
    source_samples: Samples | None = None,
    generated_samples: Samples | None = None,
) -> dict[str, Any]:
    """The fidelity report as JSON-ready data: per class numeric moments (and KS when samples are given),
    category shares, label shares, and the worst errors in ``summary``."""
    classes: dict[str, Any] = {}
    for name, cls in source.classes.items():
        made = generated.classes.get(name)
        if made is None:
            classes[name] = {"missing_in_generated": True}
            continue
        numeric = {}
        for column in NUMERIC:
            if column not in cls.numeric or column not in made.numeric:
                continue
            numeric[column] = compare_numeric(cls.numeric[column], made.numeric[column])
            if source_samples is not None and generated_samples is not None:
                numeric[column]["ks"] = ks_statistic(
                    source_samples.get(name, {}).get(column, np.empty(0)),
                    generated_samples.get(name, {}).get(column, np.empty(0)),
                )
        classes[name] = {
            "numeric": numeric,
            "location_type": compare_shares(cls.location_type, made.location_type),
            "battery_state": compare_shares(cls.battery_state, made.battery_state),
        }
    labels = compare_shares(source.labelled_shares(), generated.labelled_shares())
    return {"classes": classes, "labels": labels, "summary": _summary(classes, labels)}


def _worst(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None and math.isfinite(v)]
    return max(found) if found else None


def _summary(
    classes: Mapping[str, Any], labels: Mapping[str, Mapping[str, float]]
) -> dict[str, float | None]:
    rows = [row for cls in classes.values() for row in cls.get("numeric", {}).values()]
    shares = [
        abs(pair["source"] - pair["generated"])
        for cls in classes.values()
        for column in ("location_type", "battery_state")
        for pair in cls.get(column, {}).values()
    ]
    return {
        "max_mean_relative_error": _worst([row["mean_relative_error"] for row in rows]),
        "max_sd_relative_error": _worst([row["sd_relative_error"] for row in rows]),
        "max_ks": _worst([row.get("ks") for row in rows]),
        "max_category_share_error": _worst(shares),
        "max_label_share_error": _worst([abs(p["source"] - p["generated"]) for p in labels.values()]),
    }

"""``ActivityStats``: the typed view of the tidy ``ACTIVITY_STATS`` table that the synthetic generator consumes.

Built from the table's rows (:meth:`ActivityStats.from_rows`) without Spark, so the generator can equally be fed
from the catalog table, the Parquet files or a warehouse query.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from watchlake.errors import DataQualityError
from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS

_SUMMARY_FIELDS = ("count", "mean", "sd", "min", "max", "null_fraction")
Row = tuple[str, str | None, str, str, str | None, float | None]


@dataclass(frozen=True)
class Summary:
    """Moments and quantiles of one numeric column in one scope; NaN where the data had none."""

    count: int
    mean: float
    sd: float
    min: float
    max: float
    null_fraction: float = 0.0
    quantiles: Mapping[float, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ClassStats:
    """Everything known about one activity class (or, with ``name`` None, about all readings)."""

    name: str | None
    numeric: Mapping[str, Summary]
    # Motion-axis correlations, MOTION_FIELDS order, symmetric with a unit diagonal (unknown pairs are 0).
    correlation: tuple[tuple[float, ...], ...]
    location_type: Mapping[str | None, float]
    battery_state: Mapping[str | None, float]
    segment_seconds: Summary | None


@dataclass(frozen=True)
class ActivityStats:
    """Statistics of the processed readings: overall, per class, label shares and sampling."""

    overall: ClassStats
    classes: Mapping[str, ClassStats]
    class_shares: Mapping[str | None, float]  # share of all readings; key None = unlabelled
    raw_label_counts: Mapping[str, int]
    interval_seconds: float
    sampling_hz: float

    def labelled_shares(self) -> dict[str, float]:
        """Shares of the classes among labelled readings (sum 1), for classes with statistics."""
        shares = {name: self.class_shares.get(name, 0.0) for name in self.classes}
        total = sum(shares.values())
        if total <= 0:
            raise DataQualityError(
                "activity statistics hold no labelled readings; run `watchlake stats` on labelled data"
            )
        return {name: share / total for name, share in shares.items()}

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any] | Row]) -> ActivityStats:
        """Build from ``ACTIVITY_STATS`` rows (mappings or tuples in schema order)."""
        by_scope: dict[str | None, list[Row]] = defaultdict(list)
        for row in rows:
            values = tuple(row.values()) if isinstance(row, Mapping) else tuple(row)
            scope, activity = values[0], values[1]
            by_scope[None if scope == "overall" else activity].append(values)  # type: ignore[arg-type]
        if None not in by_scope:
            raise DataQualityError("activity statistics have no overall scope; rerun `watchlake stats`")
        overall_rows = by_scope.pop(None)
        sampling = {stat: value for _, _, col, stat, _, value in overall_rows if col == "stamp"}
        return cls(
            overall=_class_stats(None, overall_rows),
            classes={name: _class_stats(name, found) for name, found in sorted(by_scope.items())},  # type: ignore[arg-type]
            class_shares={
                key: value or 0.0
                for _, _, col, stat, key, value in overall_rows
                if col == "activity_class" and stat == "share"
            },
            raw_label_counts={
                key: int(value or 0)
                for _, _, col, stat, key, value in overall_rows
                if col == "user_activity_label" and stat == "count" and key is not None
            },
            interval_seconds=_number(sampling.get("interval_median_seconds")),
            sampling_hz=_number(sampling.get("sampling_hz")),
        )


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _summary(rows: list[Row]) -> Summary:
    plain = {stat: value for _, _, _, stat, _, value in rows if stat in _SUMMARY_FIELDS}
    quantiles = {
        float(key): _number(value) for _, _, _, stat, key, value in rows if stat == "quantile" and key
    }
    count = plain.get("count")
    return Summary(
        count=int(count or 0),
        mean=_number(plain.get("mean")),
        sd=_number(plain.get("sd")),
        min=_number(plain.get("min")),
        max=_number(plain.get("max")),
        null_fraction=_number(plain.get("null_fraction", 0.0)),
        quantiles=dict(sorted(quantiles.items())),
    )


def _correlation(rows: list[Row]) -> tuple[tuple[float, ...], ...]:
    index = {name: i for i, name in enumerate(MOTION_FIELDS)}
    matrix = [[1.0 if i == j else 0.0 for j in range(len(index))] for i in range(len(index))]
    for _, _, column, statistic, key, value in rows:
        if statistic != "corr" or column not in index or key not in index:
            continue
        if value is not None and math.isfinite(value):
            matrix[index[column]][index[key]] = matrix[index[key]][index[column]] = float(value)
    return tuple(tuple(row) for row in matrix)


def _class_stats(name: str | None, rows: list[Row]) -> ClassStats:
    by_column: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_column[row[2]].append(row)

    def shares(column: str) -> dict[str | None, float]:
        return {key: value or 0.0 for _, _, _, stat, key, value in by_column[column] if stat == "share"}

    return ClassStats(
        name=name,
        numeric={
            column: _summary(by_column[column])
            for column in MOTION_FIELDS + LOCATION_FIELDS
            if by_column[column]
        },
        correlation=_correlation(rows),
        location_type=shares("location_type"),
        battery_state=shares("battery_state"),
        segment_seconds=_summary(by_column["segment"]) if by_column["segment"] else None,
    )

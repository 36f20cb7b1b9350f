"""Spark SQL expressions (strings for dbldatagen's ``expr=``) assembled from numbers of the activity statistics.

Randomness is a function of the row id only: ``xxhash64(id, k)`` gives two 32-bit uniforms, Box-Muller turns a
pair into two independent standard normals. So a row's values do not depend on partitioning or on which
micro-batch produced it, and a streamed id carries exactly the values a batch build gives it (``randn(seed)``
would restart its sequence in every micro-batch and repeat values).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from watchlake.stats.model import Summary

_TWO_32 = "4294967296D"


def number(value: float) -> str:
    """A DOUBLE literal (Spark reads a plain ``0.5`` as DECIMAL); non-finite values become 0."""
    value = float(value) if math.isfinite(value) else 0.0
    return f"({value!r}D)" if value < 0 else f"{value!r}D"


def text(value: str | None) -> str:
    """A string literal, or NULL."""
    if value is None:
        return "CAST(NULL AS STRING)"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def hash_bits(salt: int) -> str:
    """64 pseudo-random bits of the row: a BIGINT that depends only on ``id`` and ``salt``."""
    return f"xxhash64(id, {int(salt)})"


def uniform_high(bits: str) -> str:
    """A uniform in (0, 1) from the high 32 bits of a ``hash_bits`` column."""
    return f"((shiftrightunsigned({bits}, 32) + 0.5D) / {_TWO_32})"


def uniform_low(bits: str) -> str:
    """A uniform in (0, 1) from the low 32 bits of a ``hash_bits`` column, independent of ``uniform_high``."""
    return f"(((({bits}) & 4294967295) + 0.5D) / {_TWO_32})"


def box_muller(bits: str) -> tuple[str, str]:
    """Two independent standard normals from one ``hash_bits`` column."""
    radius = f"sqrt(-2D * ln({uniform_high(bits)}))"
    angle = f"(2D * pi() * {uniform_low(bits)})"
    return f"({radius} * cos({angle}))", f"({radius} * sin({angle}))"


def class_parameters(class_column: str, rows: Sequence[Mapping[str, float]]) -> str:
    """The row's class's parameters: ``element_at(array(named_struct(...) per class), class + 1)``.

    One struct lookup per row, shared by every column that reads a field of it (``params.yaw_mean``): the
    expressions stay small (Spark compiles them to JIT-able methods) whatever the number of classes.
    """
    structs = []
    for row in rows:
        fields = ", ".join(f"'{name}', {number(value)}" for name, value in row.items())
        structs.append(f"named_struct({fields})")
    return f"element_at(array({', '.join(structs)}), {class_column} + 1)"


def class_array(class_column: str, rows: Sequence[Sequence[float]]) -> str:
    """The row's class's numbers as one ``array<double>``: ``element_at(array(array(...) per class), class + 1)``."""
    arrays = ", ".join(f"array({', '.join(number(value) for value in row)})" for row in rows)
    return f"element_at(array({arrays}), {class_column} + 1)"


def summary_parameters(prefix: str, summary: Summary) -> dict[str, float]:
    """mean, sd, min, max and missing fraction of a column as parameter fields (unknown sd: 0, bounds: +-1e308)."""
    return {
        f"{prefix}_mean": summary.mean,
        f"{prefix}_sd": summary.sd if math.isfinite(summary.sd) else 0.0,
        f"{prefix}_min": summary.min if math.isfinite(summary.min) else -1e308,
        f"{prefix}_max": summary.max if math.isfinite(summary.max) else 1e308,
        f"{prefix}_missing": summary.null_fraction if math.isfinite(summary.null_fraction) else 0.0,
    }


def normal_value(params: str, prefix: str, combination: str) -> str:
    """``mean + sd * combination`` clipped to ``[min, max]``, all read from the parameter struct."""
    value = f"({params}.{prefix}_mean + {params}.{prefix}_sd * ({combination}))"
    return f"least(greatest({value}, {params}.{prefix}_min), {params}.{prefix}_max)"


def by_class(class_column: str, branches: Sequence[str]) -> str:
    """``CASE class WHEN 0 THEN branches[0] ... END`` (NULL for an unknown class index)."""
    whens = " ".join(f"WHEN {i} THEN {branch}" for i, branch in enumerate(branches))
    return f"CASE {class_column} {whens} END"


def categorical(uniform: str, shares: Mapping[str | None, float]) -> str:
    """A value drawn with the given shares (missing value first, so it takes the lowest uniforms)."""
    ordered = sorted(shares.items(), key=lambda item: (item[0] is not None, item[0] or ""))
    total = sum(share for _, share in ordered)
    if not ordered or total <= 0:
        return text(None)
    bounds = np.cumsum([share / total for _, share in ordered])
    whens = " ".join(
        f"WHEN {uniform} < {number(b)} THEN {text(v)}"
        for (v, _), b in zip(ordered[:-1], bounds, strict=False)
    )
    last = text(ordered[-1][0])
    return f"CASE {whens} ELSE {last} END" if whens else last

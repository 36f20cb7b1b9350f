"""The numbers a synthetic watch needs, derived from ``ActivityStats`` with numpy (no Spark).

* a repeating activity schedule: segments whose classes share time as the labelled readings do and whose durations
  follow each class's segment-duration statistics; every device walks the same cycle from its own offset;
* per class, the Cholesky factor of the motion-axis correlation matrix (repaired to the nearest positive
  semi-definite matrix when estimated pairwise correlations are not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from watchlake.stats.model import ActivityStats, Summary

TICK_SECONDS = 0.1  # synthetic watches report at 10 Hz, the CASAS grid
TICKS_PER_STEP = 10  # segment boundaries fall on whole seconds
STEP_SECONDS = TICK_SECONDS * TICKS_PER_STEP
DEFAULT_SEGMENT_SECONDS = 300.0  # CASAS label span, used when a class has no segment statistics


@dataclass(frozen=True)
class Schedule:
    """One device's activity cycle: segment ``i`` covers ticks ``[ends[i-1], ends[i])`` (``ends[-1]`` = cycle)."""

    classes: tuple[str, ...]  # class names, indexed by segment_class
    segment_class: tuple[int, ...]
    ends: tuple[int, ...]

    @property
    def cycle_ticks(self) -> int:
        return self.ends[-1]

    def segment_of_step(self) -> list[int]:
        """The segment index of every step (second) of the cycle."""
        steps: list[int] = []
        for index, end in enumerate(self.ends):
            steps.extend([index] * (end // TICKS_PER_STEP - len(steps)))
        return steps

    def class_ticks(self) -> dict[str, int]:
        """Ticks per class in one cycle."""
        totals = dict.fromkeys(self.classes, 0)
        start = 0
        for cls, end in zip(self.segment_class, self.ends, strict=True):
            totals[self.classes[cls]] += end - start
            start = end
        return totals


def _duration_draws(summary: Summary | None, rng: np.random.Generator, size: int) -> np.ndarray:
    """Segment durations in seconds: log-normal with the class's mean and sd, clipped to its range."""
    if summary is None or not math.isfinite(summary.mean) or summary.mean <= 0:
        return np.full(size, DEFAULT_SEGMENT_SECONDS)
    mean = summary.mean
    sd = summary.sd if math.isfinite(summary.sd) and summary.sd > 0 else 0.0
    sigma2 = math.log1p((sd / mean) ** 2)
    draws = rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), size)
    low = summary.min if math.isfinite(summary.min) and summary.min > 0 else TICK_SECONDS
    high = summary.max if math.isfinite(summary.max) and summary.max >= low else max(mean, low)
    return np.clip(draws, low, high)


def build_schedule(stats: ActivityStats, segments: int, seed: int) -> Schedule:
    """A cycle of about ``segments`` segments in which each class holds its labelled share of the time.

    Segments last whole seconds (``TICKS_PER_STEP`` ticks), so a row finds its segment with one array lookup.
    Class time in the cycle is exact up to one second per class; segment order is shuffled with ``seed``.
    """
    shares = stats.labelled_shares()
    classes = tuple(shares)
    rng = np.random.default_rng(seed)
    mean_seconds = sum(
        share * _duration_draws(stats.classes[name].segment_seconds, rng, 256).mean()
        for name, share in shares.items()
    )
    cycle_steps = max(len(classes), round(segments * mean_seconds / STEP_SECONDS))
    pieces: list[tuple[int, int]] = []
    for index, name in enumerate(classes):
        budget = max(1, round(shares[name] * cycle_steps))
        while budget > 0:
            draw = _duration_draws(stats.classes[name].segment_seconds, rng, 1)[0]
            steps = min(budget, max(1, round(draw / STEP_SECONDS)))
            pieces.append((index, steps))
            budget -= steps
    order = rng.permutation(len(pieces))
    ends = np.cumsum([pieces[i][1] * TICKS_PER_STEP for i in order])
    return Schedule(classes, tuple(int(pieces[i][0]) for i in order), tuple(int(e) for e in ends))


def cholesky_factor(correlation: tuple[tuple[float, ...], ...] | np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L @ L.T`` the nearest correlation matrix to ``correlation``.

    Non-finite entries count as 0; negative eigenvalues are clipped and the diagonal renormalised to 1.
    """
    matrix = np.nan_to_num(np.asarray(correlation, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    matrix = (matrix + matrix.T) / 2
    np.fill_diagonal(matrix, 1.0)
    values, vectors = np.linalg.eigh(matrix)
    repaired = vectors @ np.diag(np.clip(values, 1e-9, None)) @ vectors.T
    scale = np.sqrt(np.diag(repaired))
    repaired = repaired / np.outer(scale, scale)
    return np.linalg.cholesky(repaired + 1e-12 * np.eye(len(repaired)))

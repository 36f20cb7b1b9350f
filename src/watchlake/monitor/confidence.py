"""The confidence histogram: the one binning of top-class probabilities shared by training (the champion's
held-out windows, stored in its registry record) and monitoring (recent predictions), so the two compare bin by
bin. A drift in the live distribution away from the held-out one says the stream no longer looks like the data
the champion was judged on.

Bin ``i`` of ``BINS`` holds confidences in ``[i / BINS, (i + 1) / BINS)``; a confidence of 1 goes in the last bin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

BINS = 10
HELDOUT_KEY = "heldout_confidence"  # the registry meta field: {"bins": BINS, "counts": [...]}


def bin_sql(column: str) -> str:
    """The SQL bin number of ``column`` (PostgreSQL and Redshift)."""
    return f"LEAST(CAST(FLOOR({column} * {BINS}) AS INTEGER), {BINS - 1})"


def bin_column(confidence: Column) -> Column:
    """The Spark twin of :func:`bin_sql`."""
    return F.least(F.floor(confidence * BINS).cast("int"), F.lit(BINS - 1))


def histogram_of(scored: DataFrame, column: str = "confidence") -> list[int]:
    """Counts per bin of ``column`` (a probability in [0, 1]) of ``scored``; nulls are left out."""
    rows = scored.where(F.col(column).isNotNull()).groupBy(bin_column(F.col(column)).alias("bin")).count()
    return counts_from((int(row["bin"]), int(row["count"])) for row in rows.collect())


def counts_from(pairs: Iterable[tuple[int, int]]) -> list[int]:
    """``(bin, count)`` pairs as a list of ``BINS`` counts (missing bins are 0)."""
    counts = [0] * BINS
    for index, count in pairs:
        counts[int(index)] += int(count)
    return counts


def shares(counts: Sequence[int]) -> list[float]:
    """Each bin's share of the total (all zeros when there is nothing)."""
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def total_variation(counts: Sequence[int], reference: Sequence[int]) -> float | None:
    """Half the summed absolute difference of the two distributions' shares: 0 the same, 1 disjoint; None when
    either is empty or their bins differ."""
    if len(counts) != len(reference) or not sum(counts) or not sum(reference):
        return None
    return 0.5 * sum(abs(a - b) for a, b in zip(shares(counts), shares(reference), strict=True))

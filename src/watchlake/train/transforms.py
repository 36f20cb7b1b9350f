"""Pure DataFrame steps of training: trainable windows, leakage-free splits, class weights.

Splits keep every window of a participant (``split_by=participant``) or of a participant's time block
(``split_by=time_block``) on one side. With time blocks, a window that does not lie wholly inside its block is
dropped from both sides, so sliding windows never share rows across the split.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from watchlake.errors import DataQualityError
from watchlake.features.transforms import WINDOW_END, WINDOW_START

WEIGHT = "class_weight"


def select_trainable(windows: DataFrame, *, label_col: str, ignore_class: str) -> DataFrame:
    """Windows with a class label other than the ignore class."""
    return windows.where(F.col(label_col).isNotNull() & (F.col(label_col) != ignore_class))


def choose_test_keys(keys: Iterable[str], fraction: float, seed: int) -> list[str]:
    """A deterministic choice of ``round(fraction * n)`` keys (at least 1, at most n - 1) for the test side.

    Keys are ranked by a seeded SHA-256, so the choice does not depend on input order. Needs two keys or more.
    """
    unique = sorted(set(keys))
    if len(unique) < 2:
        raise DataQualityError(
            f"a split needs at least 2 participants/blocks with labelled windows, found {len(unique)}; "
            "use more sample participants or split_by=time_block"
        )
    count = min(len(unique) - 1, max(1, round(fraction * len(unique))))
    ranked = sorted(unique, key=lambda key: hashlib.sha256(f"{seed}:{key}".encode()).hexdigest())
    return sorted(ranked[:count])


def split_by_key(windows: DataFrame, test_keys: list[str], *, key_col: str) -> tuple[DataFrame, DataFrame]:
    """(train, test): test holds the windows whose ``key_col`` is in ``test_keys``."""
    in_test = F.col(key_col).isin(test_keys)
    return windows.where(~in_test), windows.where(in_test)


def with_time_block(windows: DataFrame, block_seconds: float, *, key_col: str) -> DataFrame:
    """Add ``time_block`` = "<key>#<block index>" (block of ``window_start``) and drop windows crossing a block end."""
    micros = round(block_seconds * 1_000_000)
    block = F.floor(F.unix_micros(F.col(WINDOW_START)) / F.lit(micros)).cast("long")
    block_end = (block + 1) * F.lit(micros)
    return windows.withColumn("time_block", F.concat_ws("#", F.col(key_col), block.cast("string"))).where(
        F.unix_micros(F.col(WINDOW_END)) <= block_end
    )


def split_by_time_block(
    windows: DataFrame, block_seconds: float, fraction: float, seed: int, *, key_col: str
) -> tuple[DataFrame, DataFrame]:
    """(train, test) by seeded hash of each participant's time block; crossing windows are dropped.

    A hash rather than an exact count, since there are many blocks; each block goes to test with probability
    ``fraction``.
    """
    blocked = windows.transform(with_time_block, block_seconds, key_col=key_col)
    bucket = F.pmod(F.xxhash64(F.lit(seed), F.col("time_block")), F.lit(10_000))
    in_test = bucket < F.lit(math.floor(fraction * 10_000))
    return blocked.where(~in_test), blocked.where(in_test)


def class_weights(counts: Mapping[str, int]) -> dict[str, float]:
    """Inverse-frequency weights ``n / (k * n_c)``: every class carries the same total weight."""
    total = sum(counts.values())
    return {label: total / (len(counts) * count) for label, count in counts.items() if count > 0}


def with_class_weight(windows: DataFrame, weights: Mapping[str, float], *, label_col: str) -> DataFrame:
    """Add ``class_weight`` from ``weights`` (1.0 for a class not in the map)."""
    pairs = [F.lit(part) for label, weight in sorted(weights.items()) for part in (label, float(weight))]
    lookup = F.try_element_at(F.create_map(*pairs), F.col(label_col)) if pairs else F.lit(None)
    return windows.withColumn(WEIGHT, F.coalesce(lookup.cast("double"), F.lit(1.0)))

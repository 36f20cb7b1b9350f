"""Per-watch window assembly of a stream: the streaming twin of :func:`watchlake.features.transforms.to_windows`.

``assemble_windows`` runs the JVM operator ``watchlake.functions.WindowAssembler`` (``flatMapGroupsWithState``
keyed by watch): it merges each second's partials into the watch's open windows and emits a window as soon as
that watch has sent the window's last second, or, for a watch that went silent, once the stream's watermark has
passed the window's end. Closing per watch is what keeps latency low: a window does not wait for the slowest
watch or for a global watermark. Its state is Spark's (checkpointed with the query), so a restart resumes it.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.features.partials import MERGE_CODES, PARTIALS, SECOND, SLOT_INDEX, SLOTS
from watchlake.features.transforms import WINDOW_START
from watchlake.jvm import assemble

# Per merged second, the annotation signal keeps these slots divided by the reading count (mean magnitudes).
SIGNAL_SLOTS: tuple[str, ...] = ("acceleration_magnitude_sum", "rotation_magnitude_sum")
SIGNAL = "signal"
KEY = "key"
PASSTHROUGH = "passthrough"
ORIGIN = "origin"
LATE = "late"


def assembler_input(
    key: Column,
    second: Column,
    arrived_at: Column,
    event_time: Column,
    partials: Column,
    origin: Column,
    passthrough: Column,
) -> list[Column]:
    """The assembler's input columns, in order: a row is either partials (``passthrough`` null) with its
    ``origin`` struct (returned in ``late`` if the run comes after its windows were emitted), or a passthrough
    struct (emitted at once, untouched: e.g. a dead letter travelling in the same query)."""
    return [
        key.alias(KEY),
        second.cast("long").alias(SECOND),
        arrived_at.alias("arrived_at"),
        event_time.alias("event_time"),
        partials.alias(PARTIALS),
        origin.alias(ORIGIN),
        passthrough.alias(PASSTHROUGH),
    ]


def assemble_windows(
    rows: DataFrame, *, window_seconds: int, step_seconds: int, watermark_seconds: float
) -> DataFrame:
    """Windows of ``rows`` (the :func:`assembler_input` columns, a stream or a batch).

    Output: ``key``, ``window_start``, ``window_end``, ``seconds`` (runs merged), ``last_arrived_at``,
    ``partials`` (merged: finish with ``finish_windows``), ``signal`` (flat triples: second into the window, mean
    |acceleration|, mean |rotation rate|), ``passthrough`` and ``late``; a passthrough row has only ``key`` and
    ``passthrough``, a late run (all its watch's windows containing it were emitted) only ``key`` and ``late`` (its
    origin). ``watermark_seconds`` is how long a silent watch's window waits for late seconds; Spark drops runs
    older than the watermark before the assembler sees them (counted in the query's progress).
    """
    watermarked = rows.withWatermark("event_time", f"{round(watermark_seconds * 1000)} milliseconds")
    return assemble(
        watermarked,
        window_seconds=window_seconds,
        step_seconds=step_seconds,
        merge_codes=[MERGE_CODES[op] for _, op in SLOTS],
        readings_slot=SLOT_INDEX["readings"],
        signal_slots=[SLOT_INDEX[name] for name in SIGNAL_SLOTS],
    )


def windows_of(assembled: DataFrame) -> DataFrame:
    """The window rows of an assembler output (not the passthrough or late rows)."""
    return assembled.where(F.col(WINDOW_START).isNotNull()).drop(PASSTHROUGH, LATE)


def late_of(assembled: DataFrame) -> DataFrame:
    """The origins of the late runs of an assembler output, as columns."""
    return assembled.where(F.col(LATE).isNotNull()).select(f"{LATE}.*")


def passthrough_of(assembled: DataFrame) -> DataFrame:
    """The passthrough structs of an assembler output, as columns."""
    return assembled.where(F.col(PASSTHROUGH).isNotNull()).select(f"{PASSTHROUGH}.*")

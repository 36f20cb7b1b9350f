"""The generate stage as one run: synthetic watches into Kafka or as CASAS files in staging (:mod:`.job`), and
the fidelity report (:mod:`.report`) when asked for."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pyspark.sql import SparkSession

from watchlake.settings import Settings, with_section
from watchlake.stats.store import StatsSource, load_stats
from watchlake.synth.job import BatchResult, StreamResult, run_batch, run_stream
from watchlake.synth.report import FidelityResult, run_fidelity

FIDELITY_ROWS = 200_000  # generated readings the fidelity report compares, unless told


@dataclass(frozen=True)
class GenerateResult:
    """What ``watchlake generate`` did: a stream into Kafka or a batch of CASAS files, and the fidelity report
    when asked for."""

    devices: int
    stream: StreamResult | None = None
    target_rate: int | None = None  # readings/s asked of the stream
    batch: BatchResult | None = None
    fidelity: FidelityResult | None = None


def run(
    settings: Settings,
    spark: SparkSession,
    *,
    kafka: bool = False,
    rows: int | None = None,
    devices: int | None = None,
    rate: int | None = None,
    seconds: float | None = None,
    fresh: bool = False,
    check: bool = False,
    stats_from: StatsSource = "lake",
) -> GenerateResult:
    """Generate ``devices`` watches (default ``generate.devices``) from the statistics in ``stats_from``: into
    Kafka for ``seconds`` at ``rate`` readings/s (``kafka``), else ``rows`` readings as CASAS files in staging;
    with ``check``, also the fidelity report of ``rows`` (default 200,000) generated readings. Options left None
    take their ``settings.generate`` value."""
    if devices:
        settings = with_section(settings, "generate", devices=devices)
    stats = load_stats(spark, settings, stats_from)
    result = GenerateResult(devices=settings.generate.devices)
    if kafka:
        target = rate or settings.generate.rows_per_second
        streamed = run_stream(
            spark, settings, stats, target, seconds or settings.generate.stream_seconds, fresh=fresh
        )
        result = replace(result, stream=streamed, target_rate=target)
    else:
        result = replace(
            result, batch=run_batch(spark, settings, stats, rows or settings.generate.batch_rows)
        )
    if check:
        result = replace(result, fidelity=run_fidelity(spark, settings, stats, rows or FIDELITY_ROWS))
    return result

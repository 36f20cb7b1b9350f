"""``watchlake fidelity``: generate a batch in memory, compare it with the source statistics and readings, write
``fidelity.json`` and PNG plots to ``Lake.fidelity_reports``."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from watchlake.lake import Lake, is_remote
from watchlake.schemas import READINGS
from watchlake.settings import Settings
from watchlake.stats.describe import classify, describe
from watchlake.stats.model import ActivityStats
from watchlake.stats.transforms import CLASS_COLUMN
from watchlake.synth import plots
from watchlake.synth.fidelity import NUMERIC, Samples, compare
from watchlake.synth.job import generate_batch
from watchlake.synth.transforms import to_classed_readings

log = logging.getLogger(__name__)
FILES = ("fidelity.json", "errors.png", "motion_histograms.png", "shares.png")


@dataclass(frozen=True)
class FidelityResult:
    rows: int
    path: str
    summary: dict[str, float | None]


def sample_by_class(classed: DataFrame, counts: dict[str, int], rows: int, seed: int) -> Samples:
    """About ``rows`` random rows per class of the numeric columns, as numpy arrays without NULLs."""
    fractions = {name: min(1.0, rows / count) if count else 0.0 for name, count in counts.items()}
    sample = classed.where(F.col(CLASS_COLUMN).isin(list(fractions))).sampleBy(CLASS_COLUMN, fractions, seed)
    frame = sample.select(CLASS_COLUMN, *NUMERIC).toPandas()
    return {
        str(name): {column: group[column].dropna().to_numpy(dtype=float) for column in NUMERIC}
        for name, group in frame.groupby(CLASS_COLUMN)
    }


def _source_readings(spark: SparkSession, settings: Settings) -> DataFrame | None:
    path = Lake.from_settings(settings).readings
    try:
        readings = spark.read.schema(READINGS).parquet(path)
    except Exception:  # no processed readings: KS statistics are left out
        log.warning("fidelity: no processed readings at %s, KS statistics left out", path)
        return None
    return classify(readings, settings.labels)


def _write(
    report: dict[str, Any], samples: tuple[Samples, Samples] | None, target: str, spark: SparkSession
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / FILES[0]).write_text(json.dumps(report, indent=2, allow_nan=False, default=_json_number))
        plots.error_heatmaps(report, folder / FILES[1])
        if samples is not None:
            plots.motion_histograms(samples[0], samples[1], folder / FILES[2])
        plots.share_bars(report, folder / FILES[3])
        if not is_remote(target):
            Path(target).mkdir(parents=True, exist_ok=True)
            for file in folder.iterdir():
                shutil.copy(file, Path(target, file.name))
            return
        jvm = spark.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path  # type: ignore[union-attr]
        fs = path(target).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # type: ignore[union-attr]
        for file in folder.iterdir():
            fs.copyFromLocalFile(False, True, path(str(file)), path(f"{target}/{file.name}"))


def _json_number(value: Any) -> Any:
    return float(value) if isinstance(value, np.floating) else str(value)


def _clean_nan(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _clean_nan(item) for key, item in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def run_fidelity(spark: SparkSession, settings: Settings, stats: ActivityStats, rows: int) -> FidelityResult:
    """Generate ``rows`` rows, compare them with ``stats`` (and samples of the source readings), write the report."""
    generated = to_classed_readings(generate_batch(spark, settings, stats, rows)).cache()
    try:
        made = ActivityStats.from_rows(describe(generated, settings.stats).collect())
        source = _source_readings(spark, settings)
        samples = None
        if source is not None:
            wanted = settings.generate.fidelity_sample_rows
            counts = {name: cls.numeric["yaw"].count for name, cls in stats.classes.items()}
            made_counts = {name: cls.numeric["yaw"].count for name, cls in made.classes.items()}
            samples = (
                sample_by_class(source, counts, wanted, settings.generate.seed),
                sample_by_class(generated, made_counts, wanted, settings.generate.seed),
            )
        report = _clean_nan({"rows": rows, **compare(stats, made, *(samples or (None, None)))})
    finally:
        generated.unpersist()
    target = Lake.from_settings(settings).fidelity_reports
    _write(report, samples, target, spark)
    log.info("fidelity: %d generated rows compared, report in %s: %s", rows, target, report["summary"])
    return FidelityResult(rows, target, report["summary"])

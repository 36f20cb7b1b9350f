"""The score stage: batch inference over the lake's cleaned readings or a staging folder of CASAS files.

Readings (``Lake.readings``, or a ``--source`` folder cleaned into ``Lake.score_scratch`` with the clean stage's
own code) are cut into windows with the shared feature code, scored with the champion (or a named version) by
:func:`watchlake.scoring.score`, and written to ``Lake.predictions`` (Parquet by participant, the scored
participants replaced) with a catalog table; optionally MERGEd into the warehouse's predictions table. Where the
windows carry labels, the evaluation report training writes goes to ``Lake.score_reports/<run id>/``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from watchlake.catalog import check_written_schema, register_table
from watchlake.clean.files import list_staged_files
from watchlake.clean.readings import clean_files, split_readable
from watchlake.datasets import read_readings
from watchlake.errors import DataQualityError, FormatError
from watchlake.features.transforms import min_readings, to_labelled_windows
from watchlake.labels.mapping import load_mapping
from watchlake.lake import Lake, is_remote, join
from watchlake.registry.store import store_for
from watchlake.schemas import READINGS
from watchlake.score import transforms as T
from watchlake.scoring import ChampionModel, load_champion, load_version, score
from watchlake.settings import Settings
from watchlake.train.metrics import classification_metrics, majority_baseline, summary
from watchlake.train.report import write_report

log = logging.getLogger(__name__)
LAKE_SOURCE = "lake"


@dataclass(frozen=True)
class ScoreResult:
    """What one scoring run wrote: counts, the model, where, and the headline metrics when labels were there."""

    run_id: str
    source: str
    model_version: int
    windows: int
    partial: int  # windows of fewer than min_readings readings (scored, marked, not evaluated)
    evaluated: int  # whole windows with a class label: what the metrics count
    metrics: dict[str, float] | None
    path: str
    table: str | None
    report: str | None
    warehouse_rows: int | None
    seconds: float


def run(
    settings: Settings,
    spark: SparkSession,
    source: str | None = None,
    version: int | None = None,
    warehouse: bool = False,
) -> ScoreResult:
    """Score the lake's readings (``source`` None) or the CASAS files under the folder ``source`` with the
    champion (or ``version``); with ``warehouse``, MERGE the predictions into the warehouse too."""
    started = time.monotonic()
    lake = Lake.from_settings(settings)
    model = load_version(settings, spark, version) if version is not None else load_champion(settings, spark)
    label = LAKE_SOURCE if source is None else _absolute(source)
    readings = read_readings(spark, lake) if source is None else _cleaned_source(spark, lake, label)
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%dT%H%M%SZ") + f"-v{model.version}"
    fewest = min_readings(settings.features.window_seconds, settings.features.min_readings_share)
    written = _write_predictions(settings, spark, lake, model, readings, label, run_id, now, fewest)
    counts = written.agg(
        F.count(F.lit(1)).alias("windows"), F.count_if(F.col("partial")).alias("partial")
    ).first()
    ignore = load_mapping(settings.labels.mapping_file).ignore
    pairs = T.to_confusion_counts(T.select_evaluated(written, ignore_class=ignore)).collect()
    metrics = classification_metrics((row[0], row[1], row[2]) for row in pairs) if pairs else None
    report = _write_report(settings, lake, model, run_id, label, metrics, counts) if metrics else None
    table = None
    if settings.catalog.kind != "none":
        table = lake.table("predictions")
        register_table(spark, table, lake.predictions, T.PREDICTIONS, T.PARTITIONS)
    merged = None
    if warehouse:
        from watchlake.score.warehouse import merge_predictions

        merged = merge_predictions(settings, written, model.classes, run_id)
    result = ScoreResult(
        run_id=run_id,
        source=label,
        model_version=model.version,
        windows=counts["windows"],
        partial=counts["partial"],
        evaluated=metrics["windows"] if metrics else 0,
        metrics=summary(metrics) if metrics else None,
        path=lake.predictions,
        table=table,
        report=report,
        warehouse_rows=merged,
        seconds=round(time.monotonic() - started, 3),
    )
    log.info("score: %s", result)
    return result


def _absolute(source: str) -> str:
    return source if is_remote(source) else str(Path(source.removeprefix("file://")).expanduser().resolve())


def _cleaned_source(spark: SparkSession, lake: Lake, source: str) -> DataFrame:
    """The readings of the CASAS files under ``source``, cleaned into ``Lake.score_scratch`` (replaced)."""
    staged = list_staged_files(spark, source)
    readable, failed = split_readable(spark, staged)
    if failed:
        raise FormatError(
            f"{len(failed)} file(s) under {source} fail the header check, nothing scored: "
            + "; ".join(failed)
            + ". Fix or remove them and run `watchlake score` again"
        )
    readings_path = join(lake.score_scratch, "readings")
    cleaned = clean_files(spark, staged, readable, readings_path, join(lake.score_scratch, "rejected"))
    log.info(
        "score: cleaned %d files of %s: %d rows kept, %d rejected %s",
        cleaned.files, source, cleaned.rows_kept, cleaned.rows_rejected, cleaned.rejected_by_reason,
    )  # fmt: skip
    if cleaned.rows_kept == 0:
        raise DataQualityError(f"no readings survive cleaning in {source} ({cleaned.rejected_by_reason})")
    return spark.read.schema(READINGS).parquet(readings_path)


def _write_predictions(
    settings: Settings,
    spark: SparkSession,
    lake: Lake,
    model: ChampionModel,
    readings: DataFrame,
    source: str,
    run_id: str,
    now: datetime,
    fewest: int,
) -> DataFrame:
    """Window, score and write ``readings``; returns this run's rows as written (read back)."""
    windows = to_labelled_windows(
        readings,
        load_mapping(settings.labels.mapping_file),
        span_seconds=settings.labels.span_seconds,
        window_seconds=settings.features.window_seconds,
        step_seconds=settings.features.step_seconds,
        key_col=T.KEY,
    )
    scored_at = F.lit(now).cast("timestamp")
    predictions = T.to_predictions(
        score(model, windows), min_readings=fewest, source=source, run_id=run_id, scored_at=scored_at
    )
    # Dynamic: a run replaces the participants it scored and keeps the others' predictions.
    predictions.write.mode("overwrite").option("partitionOverwriteMode", "dynamic").partitionBy(
        *T.PARTITIONS
    ).parquet(lake.predictions)
    written = spark.read.schema(T.PREDICTIONS).parquet(lake.predictions).where(F.col("run_id") == run_id)
    check_written_schema(spark, lake.predictions, T.PREDICTIONS, 1)
    return written


def _write_report(
    settings: Settings,
    lake: Lake,
    model: ChampionModel,
    run_id: str,
    source: str,
    metrics: dict[str, Any],
    counts: Any,
) -> str:
    """The training report's files (metrics.json, confusion_matrix.png) for this run; the baseline is the
    training majority class of the model's meta.json when it names one."""
    trained = model.registry.meta(model.version).get("data", {}).get("train_windows") or {}
    support = {label: int(row["support"]) for label, row in metrics["per_class"].items() if row["support"]}
    baseline = majority_baseline(support, max(trained, key=lambda c: (trained[c], c))) if trained else None
    folder = join(lake.score_reports, run_id)
    report = {
        "model": model.name,
        "version": model.version,
        "source": source,
        "metrics": metrics,
        "baseline": baseline,
        "windows": counts["windows"],
        "partial_windows": counts["partial"],
        "predictions": lake.predictions,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_report(store_for(folder, settings), folder, report)
    log.info("score report: %s", folder)
    return folder

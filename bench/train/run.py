"""Benchmark: training time and scoring rows/s per core of the native Spark model, against a row-at-a-time
Python UDF that walks the SAME random forest's trees in Python, on the same windows, in the same run.

Usage: python bench/train/run.py [--train-windows 20000] [--score-windows 200000] [--udf-windows 20000]
                                 [--trees 60] [--depth 10]
Writes bench/results/train.json (or --out). Windows are synthetic (every FEATURE_COLUMNS column, a learnable label).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from watchlake.features.transforms import FEATURE_COLUMNS
from watchlake.registry.registry import ModelRegistry
from watchlake.registry.store import LocalStore
from watchlake.scoring import ChampionModel, score
from watchlake.settings import TrainSettings, load_settings
from watchlake.spark import build_session
from watchlake.train.pipeline import fit_pipeline

log = logging.getLogger("bench.train")
RESULTS = Path(__file__).resolve().parent.parent / "results" / "train.json"
CLASSES = ("Errands", "Exercise", "Hobby", "Housework", "Relax", "Sleep", "Travel", "Work")


def synthetic_windows(spark: SparkSession, rows: int, seed: int) -> DataFrame:
    """Random features; the class is a function of two features plus noise, so a forest can learn it."""
    base = spark.range(rows).select(
        F.concat(F.lit("p"), (F.col("id") % 20).cast("string")).alias("participant"),
        F.timestamp_seconds(F.lit(1_577_836_800) + F.col("id") * 60).alias("window_start"),
        F.col("id"),
    )
    features = [F.rand(seed + i).alias(name) for i, name in enumerate(FEATURE_COLUMNS)]
    kinds = F.array(*[F.lit(kind) for kind in ("house", "road", "work", "store")])
    windows = base.select(
        "participant",
        "window_start",
        *features,
        F.element_at(kinds, (F.col("id") % 4 + 1).cast("int")).alias("location_type_mode"),
    )
    code = F.floor(F.col(FEATURE_COLUMNS[0]) * 4) * 2 + F.floor(F.col(FEATURE_COLUMNS[9]) * 2)
    label = F.element_at(
        F.array(*[F.lit(c) for c in CLASSES]), (F.pmod(code, F.lit(len(CLASSES))) + 1).cast("int")
    )
    return windows.withColumn("activity", label).withColumn("class_weight", F.lit(1.0))


def forest_trees(model: Any) -> list[dict[int, tuple[int, int, int, list[float], float, int]]]:
    """The random forest's trees as {node id: (left, right, feature, categories-or-threshold, n_categories, ...)}."""
    forest = model.stages[-1]
    with tempfile.TemporaryDirectory() as folder:
        forest.write().save(folder + "/rf")
        table = pq.read_table(folder + "/rf/data").to_pylist()
    trees: dict[int, dict[int, Any]] = {}
    for row in table:
        node = row["nodeData"]
        stats = node["impurityStats"]
        total = sum(stats) or 1.0
        split = node["split"]
        trees.setdefault(row["treeID"], {})[node["id"]] = (
            node["leftChild"],
            node["rightChild"],
            split["featureIndex"],
            split["leftCategoriesOrThreshold"],
            split["numCategories"],
            [s / total for s in stats],
        )
    return [trees[key] for key in sorted(trees)]


def predict_row(trees: list[dict[int, Any]], vector: Any) -> int:
    """Spark's RF rule in Python: average the leaves' class distributions, take the argmax."""
    votes: list[float] = []
    for tree in trees:
        node = tree[0] if 0 in tree else tree[min(tree)]
        while node[0] != -1:
            value = float(vector[node[2]])
            left = value <= node[3][0] if node[4] == -1 else value in node[3]
            node = tree[node[0] if left else node[1]]
        distribution = node[5]
        votes = [a + b for a, b in zip(votes, distribution, strict=True)] if votes else list(distribution)
    return max(range(len(votes)), key=votes.__getitem__)


def timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train-windows", type=int, default=20_000)
    parser.add_argument("--score-windows", type=int, default=200_000)
    parser.add_argument("--udf-windows", type=int, default=20_000)
    parser.add_argument("--trees", type=int, default=60)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results JSON (default bench/results/train.json)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base = Path(tempfile.mkdtemp(prefix="watchlake-bench-train-"))
    settings = load_settings(
        "local",
        runtime_dir=str(base / "runtime"),
        lake={"root": str(base / "lake")},
        spark={"master": "local[2]", "shuffle_partitions": 2, "ui_enabled": False, "driver_memory": "4g"},
        catalog={"kind": "none", "database": "watchlake"},
    )
    spark = build_session(settings, "bench-train")
    cores = spark.sparkContext.defaultParallelism
    windows = synthetic_windows(spark, args.train_windows, seed=5).cache()
    windows.count()
    scored_windows = synthetic_windows(spark, args.score_windows, seed=9).cache()
    scored_windows.count()  # generated and cached before any timing
    train_settings = TrainSettings(num_trees=args.trees, max_depth=args.depth)
    fitted: list[Any] = []
    fit_seconds = timed(lambda: fitted.append(fit_pipeline(windows, train_settings, label_col="activity")))
    trained = fitted[0]
    registry = ModelRegistry(str(base / "models"), "bench", LocalStore(), cache_dir=base / "cache")
    champion = ChampionModel("bench", 1, trained.classes, trained.model, registry)
    report = {
        "machine": {
            "cores": cores,
            "python": sys.version.split()[0],
            "spark": spark.version,
            "cpus": os.cpu_count(),
        },
        "train_windows": args.train_windows,
        "features": len(FEATURE_COLUMNS) + 1,
        "classes": len(trained.classes),
        "model": {"classifier": "random_forest", "trees": args.trees, "max_depth": args.depth},
        "train_seconds": round(fit_seconds, 2),
        **_native_timings(champion, windows, scored_windows, cores),
        **_udf_comparison(spark, trained, scored_windows.limit(args.udf_windows).cache(), cores),
    }
    report["speedup_native_over_udf"] = round(
        report["native_predict_only"]["rows_per_second_per_core"]
        / max(1, report["python_udf_score"]["rows_per_second_per_core"]),
        1,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log.info("bench: %s", json.dumps(report))
    spark.stop()
    return 0


def _native_timings(
    champion: ChampionModel, warm: DataFrame, windows: DataFrame, cores: int
) -> dict[str, Any]:
    """Full score() (class, probabilities, confidence, margin, entropy) and the model's class index alone."""
    rows = windows.count()
    score(champion, warm).write.format("noop").mode("overwrite").save()  # warm-up
    full = timed(lambda: score(champion, windows).write.format("noop").mode("overwrite").save())
    predict_only = champion.model.transform(windows).select("prediction")
    bare = timed(lambda: predict_only.write.format("noop").mode("overwrite").save())
    return {
        "native_score": {
            "windows": rows,
            "seconds": round(full, 3),
            "rows_per_second": round(rows / full),
            "rows_per_second_per_core": round(rows / full / cores),
        },
        # The like-for-like comparison with the UDF, which also returns only the class index.
        "native_predict_only": {
            "windows": rows,
            "seconds": round(bare, 3),
            "rows_per_second_per_core": round(rows / bare / cores),
        },
    }


def _udf_comparison(spark: SparkSession, trained: Any, windows: DataFrame, cores: int) -> dict[str, Any]:
    """Row-at-a-time Python UDF on the assembled feature vector, walking the forest's trees; agreement check."""
    from pyspark.ml import PipelineModel

    trees = forest_trees(trained.model)
    broadcast = spark.sparkContext.broadcast(trees)
    # Deliberately a plain row-at-a-time UDF: this is the slow reference the native model is measured against.
    predict = F.udf(lambda vector: predict_row(broadcast.value, vector), "int")
    assemble = PipelineModel(stages=trained.model.stages[:-1])
    rows = windows.count()
    assemble.transform(windows.limit(100)).select(predict("features")).write.format("noop").mode(
        "overwrite"
    ).save()
    udf_scored = assemble.transform(windows).select(
        "id" if "id" in windows.columns else "window_start", predict("features").alias("udf")
    )
    udf_seconds = timed(lambda: udf_scored.write.format("noop").mode("overwrite").save())
    native = trained.model.transform(windows).select(
        F.col("prediction").cast("int").alias("native"), predict("features").alias("udf")
    )
    agree = native.where(F.col("native") == F.col("udf")).count() / rows
    return {
        "python_udf_score": {
            "windows": rows,
            "seconds": round(udf_seconds, 3),
            "rows_per_second": round(rows / udf_seconds),
            "rows_per_second_per_core": round(rows / udf_seconds / cores),
        },
        "udf_agrees_with_native": round(agree, 4),
    }


if __name__ == "__main__":
    sys.exit(main())

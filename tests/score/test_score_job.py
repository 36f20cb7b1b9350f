"""`watchlake score` end to end on real Spark: a model trained on one sample scores a staging folder of another.

The folder also holds a hand-made participant (p99) whose second window is a lone labelled row: it must be
scored, marked partial and left out of the evaluation. The accuracy the CLI prints must equal the one recomputed
from the predictions it wrote.
"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from conftest import make_settings
from watchlake import cli
from watchlake.casas.format import HEADER
from watchlake.casas.sample import generate_sample
from watchlake.lake import Lake

pytestmark = pytest.mark.slow
MOTION = "0.5,-0.25,1e-05,0.1,0.2,0.3,-0.0125,0.98,0.0"
LOCATION = "house,0.001,-0.002,3.5,90.0,1.25,5.0,3.0"
OVERRIDES = {"train": {"num_trees": 10, "max_depth": 5}, "catalog": {"kind": "none", "database": "watchlake"}}


def _reading(stamp: datetime, label: str = "") -> str:
    return f"{stamp:%Y-%m-%d %H:%M:%S.%f},{MOTION},{LOCATION},unplugged,{label}\r\n"


def _lone_row_participant(path: Path) -> None:
    """One whole minute at 10 Hz labelled Relax at its end, then one lone labelled reading a minute later."""
    start = datetime(2020, 3, 2, 9, 0)
    rows = [_reading(start + timedelta(milliseconds=100 * i)) for i in range(599)]
    rows.append(_reading(start + timedelta(milliseconds=59_900), "Relax"))
    rows.append(_reading(start + timedelta(seconds=90), "Work"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8", newline="")


@pytest.fixture(scope="module")
def scored(spark, tmp_path_factory: pytest.TempPathFactory):
    """A lake with a champion trained on a sample; the CLI's output of scoring another sample's folder."""
    from watchlake.clean.job import run as clean
    from watchlake.features.job import run as features
    from watchlake.ingest.job import run as ingest
    from watchlake.train.job import run as train

    base = tmp_path_factory.mktemp("score")
    settings = make_settings(base, **OVERRIDES)
    generate_sample(base / "train-sample", 4, 0.5, 2, 7)
    ingest(settings, str(base / "train-sample"))
    clean(settings, spark)
    features(settings, spark)
    train(settings, spark)
    folder = base / "to-score"
    for archive in generate_sample(base / "new-sample", 2, 0.3, 1, 11).zips:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(folder)
    _lone_row_participant(folder / "hand" / "sw1.p99.csv")
    processed = spark.read.parquet(Lake.from_settings(settings).readings).count()
    return settings, folder, processed


def _run_cli(settings, argv: list[str], monkeypatch, capsys) -> str:
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", settings.lake.root)
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", settings.runtime_dir)
    monkeypatch.setenv("WATCHLAKE_CATALOG__KIND", "none")
    assert cli.main(argv) == 0
    return capsys.readouterr().out


def test_score_source_prints_the_accuracy_of_its_output(spark, scored, monkeypatch, capsys) -> None:
    settings, folder, _ = scored
    out = _run_cli(settings, ["score", "--source", str(folder)], monkeypatch, capsys)
    printed = float(re.search(r"accuracy (\d\.\d{4})", out).group(1))
    run_id = re.search(r"run (\S+)$", out.strip()).group(1)

    lake = Lake.from_settings(settings)
    predictions = spark.read.parquet(lake.predictions).where(F.col("run_id") == run_id)
    evaluated = predictions.where(
        ~F.col("partial") & F.col("activity").isNotNull() & (F.col("activity") != "Ignore")
    )
    hits, total = evaluated.agg(
        F.sum((F.col("activity") == F.col("predicted_activity")).cast("int")), F.count(F.lit(1))
    ).first()
    assert total >= 10
    assert printed == round(hits / total, 4)
    report = json.loads((Path(lake.score_reports) / run_id / "metrics.json").read_text())
    assert report["metrics"]["accuracy"] == hits / total
    assert report["metrics"]["windows"] == total
    assert (Path(lake.score_reports) / run_id / "confusion_matrix.png").stat().st_size > 0


def test_score_marks_the_lone_row_window_partial_and_does_not_evaluate_it(spark, scored, monkeypatch, capsys):
    settings, folder, _ = scored
    out = _run_cli(settings, ["score", "--source", str(folder)], monkeypatch, capsys)
    run_id = re.search(r"run (\S+)$", out.strip()).group(1)
    predictions = spark.read.parquet(Lake.from_settings(settings).predictions).where(
        F.col("run_id") == run_id
    )
    hand = predictions.where(F.col("participant") == "p99").orderBy("window_start")
    assert [(row.rows, row.partial, row.activity) for row in hand.collect()] == [
        (600, False, "Relax"),
        (1, True, "Work"),
    ]
    assert {row.model_version for row in hand.collect()} == {1}
    assert all(abs(sum(row.probabilities) - 1) < 1e-9 for row in hand.collect())
    report = json.loads(
        (Path(Lake.from_settings(settings).score_reports) / run_id / "metrics.json").read_text()
    )
    assert report["partial_windows"] == predictions.where("partial").count() >= 1
    work = report["metrics"]["per_class"].get("Work", {"support": 0})["support"]
    assert work == predictions.where(~F.col("partial") & (F.col("activity") == "Work")).count()


def test_score_source_leaves_the_processed_layer_alone(spark, scored, monkeypatch, capsys) -> None:
    settings, folder, processed = scored
    _run_cli(settings, ["score", "--source", str(folder)], monkeypatch, capsys)
    lake = Lake.from_settings(settings)
    assert spark.read.parquet(lake.readings).count() == processed
    assert spark.read.parquet(lake.readings).where(F.col("participant") == "p99").count() == 0


def test_score_an_unknown_version_names_the_versions_command(scored, monkeypatch, capsys) -> None:
    settings, folder, _ = scored
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", settings.lake.root)
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", settings.runtime_dir)
    assert cli.main(["score", "--source", str(folder), "--version", "7"]) != 0
    assert "watchlake train --show" in capsys.readouterr().err


def test_score_warehouse_merges_on_the_key_and_a_rerun_adds_no_rows(
    spark, scored, postgres_service, pg_schema
):
    from fixtures_services import warehouse_overrides
    from watchlake.score.job import run
    from watchlake.warehouse.connection import connect

    settings, folder, _ = scored
    with_warehouse = make_settings(
        Path(settings.lake.root).parent, **OVERRIDES, **warehouse_overrides(postgres_service, pg_schema)
    )
    first = run(with_warehouse, spark, source=str(folder), warehouse=True)
    second = run(with_warehouse, spark, source=str(folder), warehouse=True)
    connection = connect(with_warehouse)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), count(DISTINCT query_name) FROM {pg_schema}.predictions")
            count, queries = cursor.fetchone()
            cursor.execute(
                f"SELECT events, partial, query_name FROM {pg_schema}.predictions "
                "WHERE device_id = 'p99' ORDER BY window_start"
            )
            hand = cursor.fetchall()
    finally:
        connection.close()
    assert first.warehouse_rows == second.warehouse_rows == first.windows == count
    assert queries == 1  # every row was updated by the second run
    assert hand == [(600, False, "score-" + second.run_id), (1, True, "score-" + second.run_id)]

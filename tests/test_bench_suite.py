"""``watchlake bench``: figures read from the benchmarks' own JSON, medians and ratios, failures reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchlake import cli
from watchlake.bench_suite.catalog import BENCHES, Bench, Figure, bench_named
from watchlake.bench_suite.commands import _run_bench, checkout
from watchlake.bench_suite.figures import markdown, resolve, rows_of
from watchlake.progress import Tracker


def test_resolve_follows_dotted_paths_and_list_items_and_names_a_missing_step() -> None:
    document = {"drain": {"noop": {"rates": [{"p95": 3}, {"p95": 7}]}}}
    assert resolve(document, "drain.noop.rates[1].p95") == 7
    assert resolve(document, "drain.noop.rates[-2].p95") == 3
    with pytest.raises(KeyError, match=r"drain\.warehouse\.x: no warehouse"):
        resolve(document, "drain.warehouse.x")


def test_a_row_holds_the_medians_and_the_median_of_the_per_run_ratios() -> None:
    figure = Figure("clean, s", "spark.seconds", "duckdb.seconds", "DuckDB", "s", False, 2.0)
    bench = Bench("clean", "bench.clean.run", (), (), (figure,))
    runs = [{"spark": {"seconds": s}, "duckdb": {"seconds": d}} for s, d in ((10, 4), (9, 3), (30, 5))]

    (row,) = rows_of(bench, runs)

    assert (row.value, row.baseline, row.runs) == (10, 4, 3)
    assert row.ratio == pytest.approx(3.0)  # median of 2.5, 3.0 and 6.0, not 10 / 4
    assert row.target_met is False
    table = markdown(
        [row], {"finished": "today", "description": "here", "load_before": 1, "load_after": 2}, quick=False
    )
    assert (
        "| clean, s | **3.00x** (lower is better) (target <= 2: not met) | 10 s | 4 (DuckDB) | 3 |" in table
    )


def test_every_catalogued_benchmark_script_exists_and_takes_out() -> None:
    root = checkout()
    for bench in BENCHES:
        script = root / Path(*bench.module.split(".")).with_suffix(".py")
        assert script.exists(), script
        assert '"--out"' in script.read_text(), f"{script} has no --out option"


def test_a_failing_benchmark_is_reported_with_the_log_to_read(tmp_path: Path) -> None:
    broken = Bench("broken", "bench.no_such_benchmark", (), (), ())
    documents, failure = _run_bench(broken, checkout(), tmp_path, 2, False, Tracker("t", 2, "runs"))
    assert documents == []
    assert failure is not None and "run 1 exited with 1" in failure and "No module named" in failure
    assert str(tmp_path / "broken.1.log") in failure


def test_runs_below_one_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--runs", "0", "--only", "train"]) != 0
    assert "--runs must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_the_train_benchmark_runs_as_a_fresh_process_and_its_figures_come_from_its_json(
    tmp_path: Path,
) -> None:
    train = bench_named("train")
    tiny = Bench(
        "train",
        train.module,
        (),
        (
            "--train-windows",
            "600",
            "--score-windows",
            "3000",
            "--udf-windows",
            "600",
            "--trees",
            "3",
            "--depth",
            "4",
        ),
        train.figures,
    )
    documents, failure = _run_bench(tiny, checkout(), tmp_path, 1, True, Tracker("t", 1, "runs"))
    assert failure is None
    written = json.loads((tmp_path / "train.1.json").read_text())
    assert documents == [written]
    score, fit = rows_of(tiny, documents)
    assert score.value == written["native_score"]["rows_per_second_per_core"] > 0
    assert score.baseline == written["python_udf_score"]["rows_per_second_per_core"] > 0
    assert score.ratio == pytest.approx(score.value / score.baseline)
    assert fit.value == written["train_seconds"] and fit.ratio is None

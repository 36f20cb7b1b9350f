"""The pipelines table and the EMR request builders, without Airflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.errors import ConfigError, OrchestrationError
from watchlake.orchestration import emr
from watchlake.orchestration.pipelines import PIPELINES, Param, Pipeline, pipeline, stage_arguments
from watchlake.orchestration.tasks import run_local, runs_on_emr
from watchlake.stages import STAGES


def test_pipelines_chain_stages_of_the_table() -> None:
    names = {entry.name for entry in STAGES}
    assert {p.dag_id: p.stages for p in PIPELINES} == {
        "watchlake_batch": ("ingest", "clean", "stats"),
        "watchlake_train": ("features", "train"),
        "watchlake_retrain": ("retrain",),
    }
    assert pipeline("watchlake_retrain").schedule == "@hourly"
    assert all(set(p.stages) <= names for p in PIPELINES)


def test_pipeline_refuses_an_unknown_stage() -> None:
    with pytest.raises(ConfigError, match="unknown stage 'catalog'"):
        Pipeline("x", "x", stages=("ingest", "catalog"))


def test_stage_arguments_fill_params_with_defaults() -> None:
    batch = pipeline("watchlake_batch")
    assert stage_arguments(batch, "ingest", {}) == ["--source", "casas"]
    assert stage_arguments(batch, "ingest", {"source": "sample", "other": 1}) == ["--source", "sample"]
    assert stage_arguments(batch, "clean", {"source": "sample"}) == []


def test_stage_arguments_name_an_undeclared_param() -> None:
    odd = Pipeline(
        "x", "x", stages=("ingest",), params={"a": Param(1, "integer", "")}, arguments={"ingest": ("{b}",)}
    )
    with pytest.raises(ConfigError, match="parameter 'b'"):
        stage_arguments(odd, "ingest", {})


def test_runs_on_emr_only_spark_stages_on_the_emr_target(tmp_path: Path) -> None:
    local = make_settings(tmp_path)
    on_emr = make_settings(tmp_path, orchestration={"target": "emr"})
    assert [runs_on_emr(local, name) for name in ("ingest", "clean")] == [False, False]
    assert [runs_on_emr(on_emr, name) for name in ("ingest", "clean", "train")] == [False, True, True]


def test_step_log_location_follows_the_log_uri(tmp_path: Path) -> None:
    default = make_settings(tmp_path, aws={"bucket": "lake"})
    assert emr.step_log_location(default, "j-1", "s-2") == ("lake", "emr-logs/j-1/steps/s-2/stderr.gz")
    own = make_settings(tmp_path, aws={"bucket": "lake"}, orchestration={"emr": {"log_uri": "s3://logs"}})
    assert emr.step_log_location(own, "j-1", "s-2", "stdout") == ("logs", "j-1/steps/s-2/stdout.gz")


def test_cluster_request_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"aws\.bucket"):
        emr.cluster_request(make_settings(tmp_path))


def test_run_local_fails_with_the_stage_output() -> None:
    with pytest.raises(OrchestrationError, match=r"(?s)stage ingest exited with code [1-9].*/no/such/folder"):
        run_local("ingest", ["--source", "/no/such/folder"])

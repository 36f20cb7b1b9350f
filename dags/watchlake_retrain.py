"""Airflow DAG watchlake_retrain: retrain, hourly (tasks from the stage table, on orchestration.target)."""

from __future__ import annotations

from watchlake.orchestration.airflow_dag import build_dag

dag = build_dag("watchlake_retrain")

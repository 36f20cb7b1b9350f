"""Airflow DAG watchlake_retrain (hourly): retrain on the feature store's labels; a skipped task when none are new."""

from __future__ import annotations

from watchlake.orchestration.airflow_dag import build_dag

dag = build_dag("watchlake_retrain")

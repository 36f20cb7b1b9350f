"""From ``watchlake sample`` through ``watchlake ingest`` to the clean job: every planted defect is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.cli import main
from watchlake.lake import Lake

pytestmark = pytest.mark.slow


def test_sample_ingest_clean_finds_exactly_the_planted_rejects(
    spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchlake.clean import job

    settings = make_settings(tmp_path)
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", settings.runtime_dir)
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", settings.lake.root)
    sample = tmp_path / "sample"
    assert (
        main(["sample", "--participants", "3", "--hours", "0.1", "--groups", "2", "--out", str(sample)]) == 0
    )
    assert main(["ingest", "--source", str(sample)]) == 0

    result = job.run(settings, spark)

    planted = json.loads((sample / "planted.json").read_text(encoding="utf-8"))["totals"]
    assert result.rejected_by_reason == planted["rejected"]
    assert result.rows_kept == planted["kept_rows"]
    assert result.rows_in == planted["data_rows"]
    assert spark.table(Lake.from_settings(settings).readings_table).count() == planted["kept_rows"]

"""Each stage run before the one it reads from stops with one line naming the command to run first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import make_settings

from watchlake.errors import WatchlakeError
from watchlake.stages import run_stage

pytestmark = pytest.mark.slow

# (stage, its options, the command its error must name)
FIRST = [
    ("clean", {}, "watchlake ingest"),
    ("stats", {}, "watchlake clean"),
    ("features", {}, "watchlake clean"),
    ("train", {}, "watchlake features"),
    ("score", {}, "watchlake train"),
    ("generate", {"rows": 10}, "watchlake stats"),
]


@pytest.mark.parametrize(("name", "options", "command"), FIRST, ids=[name for name, _, _ in FIRST])
def test_a_stage_on_an_empty_lake_names_the_stage_to_run_first(
    tmp_path: Path, spark: Any, name: str, options: dict[str, Any], command: str
) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(WatchlakeError) as raised:
        run_stage(name, settings, spark, **options)
    message = str(raised.value)
    assert f"run `{command}` first" in message
    assert "\n" not in message and len(message) < 300, message  # one line, no Java trace
    assert "Exception" not in message and "PATH_NOT_FOUND" not in message, message


def test_predict_without_a_champion_says_so_with_the_warehouse_up(
    tmp_path: Path, spark: Any, postgres_service: Any, kafka_service: Any
) -> None:
    settings = make_settings(
        tmp_path,
        warehouse=postgres_service.warehouse.model_dump(),
        kafka=kafka_service.kafka.model_dump(),
    )
    with pytest.raises(WatchlakeError, match=r"run `watchlake train` first"):
        run_stage("predict", settings, spark, available_now=True)


def test_verbose_output_of_a_stage_run_too_early_holds_no_java_trace(tmp_path: Path) -> None:
    """``-v`` shows Spark's warnings: a missing dataset is found before Spark reads it (no FileNotFoundException)."""
    env = {
        **os.environ,
        "WATCHLAKE_LAKE__ROOT": str(tmp_path / "lake"),
        "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "WATCHLAKE_CATALOG__METASTORE": "derby",
    }
    done = subprocess.run(
        [sys.executable, "-m", "watchlake", "-v", "train"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "run `watchlake features` first" in done.stderr
    output = done.stdout + done.stderr
    assert "FileNotFoundException" not in output and "\tat " not in output, output[-3000:]

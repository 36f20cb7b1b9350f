from __future__ import annotations

from pathlib import Path

import pytest

from watchlake.lake import Lake, is_remote, join
from watchlake.settings import load_settings


def test_join_keeps_uri_scheme() -> None:
    assert join("s3://bucket/", "staging", "/group1/") == "s3://bucket/staging/group1"


def test_is_remote_tells_object_stores_from_local_paths() -> None:
    assert is_remote("s3a://bucket/x")
    assert not is_remote("/tmp/lake")
    assert not is_remote("file:///tmp/lake")


def test_lake_local_root_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lake = Lake.from_settings(load_settings("local", lake={"root": "rel/lake"}))
    assert lake.readings == str(tmp_path / "rel" / "lake" / "processed" / "readings")


def test_lake_s3_paths_and_tables() -> None:
    lake = Lake.from_settings(load_settings("aws"))
    assert lake.staging == "s3://watchlake-lake/staging"
    assert lake.checkpoint("predict") == "s3://watchlake-lake/checkpoints/predict"
    assert lake.readings_table == "watchlake.readings"


def test_lake_unknown_layer_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown lake layer"):
        Lake("/x", "db").layer("bronze")

"""The lake registry on a local folder: versions, atomic champion pointer, crash safety, rollback."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from watchlake.errors import ModelError
from watchlake.registry.registry import ModelRegistry, Pointer
from watchlake.registry.store import LocalStore


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(str(tmp_path / "models"), "activity", LocalStore(), cache_dir=tmp_path / "cache")


@pytest.fixture
def two_versions(registry, tiny_model):
    first = registry.register(
        tiny_model.model, {"classes": list(tiny_model.classes), "metrics": {"macro_f1": 0.5}}
    )
    second = registry.register(
        tiny_model.model, {"classes": list(tiny_model.classes), "metrics": {"macro_f1": 0.6}}
    )
    return first, second


def test_register_numbers_versions_and_writes_meta_last(registry, two_versions, tmp_path):
    assert two_versions == (1, 2)
    assert registry.versions() == [1, 2]
    meta = registry.meta(2)
    assert (meta["version"], meta["name"], meta["metrics"]) == (2, "activity", {"macro_f1": 0.6})
    assert (tmp_path / "models/activity/versions/2/model/metadata").is_dir()
    assert not [p for p in (tmp_path / "models/activity/versions").iterdir() if p.name.startswith(".")]


def test_version_without_meta_is_incomplete_and_not_loadable(registry, two_versions, spark, tmp_path):
    (tmp_path / "models/activity/versions/2/meta.json").unlink()
    assert registry.versions() == [1]
    with pytest.raises(ModelError, match="no complete version 2"):
        registry.load(2, spark)


def test_set_champion_and_rollback_keep_history(registry, two_versions):
    assert registry.champion() is None
    registry.set_champion(1, "first")
    pointer = registry.set_champion(2, "better")
    assert (pointer.version, pointer.history) == (2, (1,))
    back = registry.rollback()
    assert (back.version, back.history) == (1, ())
    assert registry.champion() == back
    with pytest.raises(ModelError, match="no previous champion"):
        registry.rollback()


def test_crash_before_rename_leaves_old_champion(registry, two_versions, monkeypatch, tmp_path):
    registry.set_champion(1)

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        registry.set_champion(2)
    monkeypatch.undo()
    assert registry.champion().version == 1
    pointer_text = (tmp_path / "models/activity/champion.json").read_text()
    assert json.loads(pointer_text)["version"] == 1


def test_reader_during_promotions_sees_whole_pointer(registry, two_versions):
    registry.set_champion(1)
    seen: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(registry.champion().version)
            except Exception as error:  # a torn or missing pointer would land here
                errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        registry.set_champion(2 if i % 2 == 0 else 1)
    stop.set()
    reader.join()
    assert errors == []
    assert set(seen) <= {1, 2} and len(seen) > 0


def _scores(model, windows):
    return [(row.prediction, tuple(row.probability)) for row in model.transform(windows).collect()]


def _snapshots(tmp_path: Path, version: int) -> list[Path]:
    return sorted((tmp_path / "cache/activity/snapshots" / str(version)).glob("*.ser"))


def test_loaded_version_scores_like_the_original_from_the_lake_and_from_its_snapshot(
    registry, two_versions, spark, tiny_model, tmp_path
):
    from fixtures_models import tiny_windows

    windows = tiny_windows(spark, rows=30)
    original = _scores(tiny_model.model, windows)
    assert _snapshots(tmp_path, 1) == []
    from_lake = registry.load(1, spark)  # the registry's saved model; leaves a snapshot
    [snapshot] = _snapshots(tmp_path, 1)
    assert spark.version in snapshot.name
    written = snapshot.stat().st_mtime_ns
    from_snapshot = registry.load(1, spark)
    assert snapshot.stat().st_mtime_ns == written  # read, not rewritten
    assert [type(stage).__name__ for stage in from_snapshot.stages] == [
        type(stage).__name__ for stage in tiny_model.model.stages
    ]
    assert _scores(from_lake, windows) == original
    assert _scores(from_snapshot, windows) == original
    assert _snapshots(tmp_path, 2) == []  # one snapshot per version loaded


@pytest.mark.parametrize("content", [b"", b"not a java stream", b"\xac\xed\x00\x05t\x00\x03abc"])
def test_an_unreadable_snapshot_is_ignored_and_replaced(
    registry, two_versions, spark, tiny_model, tmp_path, content, caplog
):
    from fixtures_models import tiny_windows

    registry.load(2, spark)
    [snapshot] = _snapshots(tmp_path, 2)
    snapshot.write_bytes(content)  # truncated, garbage, a serialized string instead of a model
    windows = tiny_windows(spark, rows=20)
    assert _scores(registry.load(2, spark), windows) == _scores(tiny_model.model, windows)
    assert "unreadable" in caplog.text
    assert snapshot.stat().st_size > 1000 and snapshot.read_bytes() != content
    assert _scores(registry.load(2, spark), windows) == _scores(tiny_model.model, windows)


def test_pointer_round_trips_json():
    pointer = Pointer(3, (1, 2), "2026-01-01T00:00:00+00:00", "why")
    assert Pointer.from_json(pointer.to_json()) == pointer

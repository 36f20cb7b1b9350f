"""Versioned models in the lake and the ``champion`` alias.

Layout under ``Lake.models``::

    <name>/versions/<n>/model/      the saved Spark PipelineModel (immutable once meta.json exists)
    <name>/versions/<n>/meta.json   metrics, data, settings snapshot, held-out identity; written LAST
    <name>/champion.json            the pointer: {"version": n, "history": [older champions], ...}

A version is complete only when its ``meta.json`` exists. Readers read the pointer (one small object, replaced
atomically) and then an immutable version folder, so they never see half a model. Local lakes stage a new version
under a temporary folder name and rename it into place. On S3 with a local Spark master the model is saved to a
local temporary folder and uploaded with boto3 (no hadoop-aws needed); on a cluster (EMR) Spark writes the S3 URI
itself. Version numbers on S3 assume one trainer at a time. A version loaded once on a local master is kept as a
Java-serialized snapshot in the local model cache (``registry.snapshot``): later processes read that instead.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

from watchlake.errors import ModelError
from watchlake.lake import Lake, is_remote, join
from watchlake.registry.snapshot import read_snapshot, snapshot_path, write_snapshot
from watchlake.registry.store import Store, store_for
from watchlake.settings import Settings

log = logging.getLogger(__name__)

POINTER = "champion.json"
META = "meta.json"
MODEL_DIR = "model"


@dataclass(frozen=True)
class Promotion:
    """One change of champion: the version that became champion, when (ISO UTC) and why."""

    version: int
    at: str
    reason: str


@dataclass(frozen=True)
class Pointer:
    """The champion alias: the current version and the champions before it, oldest first, and every change of
    champion, oldest first (pointers written before this log existed have none)."""

    version: int
    history: tuple[int, ...] = ()
    updated_at: str = ""
    reason: str = ""
    promotions: tuple[Promotion, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "history": list(self.history),
                "updated_at": self.updated_at,
                "reason": self.reason,
                "promotions": [vars(promotion) for promotion in self.promotions],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Pointer:
        data = json.loads(text)
        return cls(
            int(data["version"]),
            tuple(int(v) for v in data.get("history", [])),
            data.get("updated_at", ""),
            data.get("reason", ""),
            tuple(
                Promotion(int(p["version"]), str(p.get("at", "")), str(p.get("reason", "")))
                for p in data.get("promotions", [])
            ),
        )

    def moved_to(self, version: int, history: tuple[int, ...], reason: str) -> Pointer:
        """The pointer after the champion became ``version`` now, with the change logged."""
        now = _now()
        return Pointer(version, history, now, reason, (*self.promotions, Promotion(version, now, reason)))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelRegistry:
    """Versions and champion of one model name in a lake (local folder or S3)."""

    def __init__(self, root: str, name: str, store: Store, *, cache_dir: Path, cluster: bool = False) -> None:
        self.root = join(root, name)
        self.name = name
        self._store = store
        self._cache_dir = cache_dir
        self._cluster = (
            cluster  # True: Spark itself reads/writes remote URIs (EMR); False: stage through boto3
        )

    @classmethod
    def from_settings(cls, settings: Settings, name: str | None = None) -> ModelRegistry:
        lake = Lake.from_settings(settings)
        return cls(
            lake.models,
            name or settings.train.model_name,
            store_for(lake.models, settings),
            cache_dir=Path(settings.runtime_dir, "model-cache").resolve(),
            cluster=not settings.spark.master.startswith("local"),
        )

    @property
    def remote(self) -> bool:
        return is_remote(self.root)

    def version_uri(self, version: int) -> str:
        return join(self.root, "versions", str(version))

    # Versions ---------------------------------------------------------------------------------------
    def versions(self) -> list[int]:
        """Complete versions (those with a meta.json), ascending."""
        found = []
        for child in self._store.list_children(join(self.root, "versions")):
            if (
                child.isdigit()
                and self._store.read_bytes(join(self.version_uri(int(child)), META)) is not None
            ):
                found.append(int(child))
        return sorted(found)

    def meta(self, version: int) -> dict[str, Any]:
        data = self._store.read_bytes(join(self.version_uri(version), META))
        if data is None:
            raise ModelError(f"model {self.name!r} has no complete version {version} under {self.root}")
        return dict(json.loads(data))

    def register(self, model: PipelineModel, meta: dict[str, Any]) -> int:
        """Save ``model`` as the next version with ``meta`` (plus name, version, created_at); return the version."""
        taken = [int(c) for c in self._store.list_children(join(self.root, "versions")) if c.isdigit()]
        version = max(taken, default=0) + 1
        if self.remote:
            version = self._register_remote(model, version)
        else:
            version = self._register_local(model, version)
        record = {**meta, "name": self.name, "version": version, "created_at": _now()}
        self._store.write_bytes(join(self.version_uri(version), META), json.dumps(record, indent=2).encode())
        log.info("registered model %s version %d at %s", self.name, version, self.version_uri(version))
        return version

    def _register_local(self, model: PipelineModel, version: int) -> int:
        versions = Path(self.root, "versions")
        versions.mkdir(parents=True, exist_ok=True)
        staging = versions / f".staging-{uuid.uuid4().hex}"
        model.write().save(str(staging / MODEL_DIR))
        while True:  # another trainer may have taken the number: rename refuses an existing folder
            try:
                os.rename(staging, versions / str(version))
                return version
            except OSError:
                if not (versions / str(version)).exists():
                    raise
                version += 1

    def _register_remote(self, model: PipelineModel, version: int) -> int:
        target = join(self.version_uri(version), MODEL_DIR)
        if self._cluster:
            model.write().save(target)
            return version
        with tempfile.TemporaryDirectory(prefix="watchlake-model-") as folder:
            model.write().save(str(Path(folder, MODEL_DIR)))
            self._store.upload_dir(Path(folder, MODEL_DIR), target)
        return version

    def load(self, version: int, spark: SparkSession) -> PipelineModel:
        """Load a complete version's PipelineModel: from this machine's snapshot of it when an earlier load left one
        (``registry.snapshot``, a local master only), else from the registry (remote versions through a local
        cache on a local master), leaving a snapshot for the next load."""
        self.meta(version)  # refuse incomplete versions
        if self._cluster:
            return PipelineModel.load(join(self.version_uri(version), MODEL_DIR))
        snapshot = snapshot_path(self._cache_dir / self.name / "snapshots" / str(version), spark)
        model = read_snapshot(snapshot, spark)
        if model is None:
            model = PipelineModel.load(self._local_model_dir(version))
            write_snapshot(snapshot, model, spark)
        return model

    def _local_model_dir(self, version: int) -> str:
        """The version's saved model on local disk: in the lake, or for a remote lake a downloaded copy."""
        uri = join(self.version_uri(version), MODEL_DIR)
        if not self.remote:
            return uri
        cached = self._cache_dir / self.name / str(version)
        if not (cached / ".complete").exists():
            partial = cached.with_name(f".{version}-{uuid.uuid4().hex}")
            self._store.download_dir(uri, partial)
            (partial / ".complete").touch()
            shutil.rmtree(cached, ignore_errors=True)
            os.replace(partial, cached)
        return str(cached)

    # Champion ---------------------------------------------------------------------------------------
    def champion(self) -> Pointer | None:
        """The current champion pointer, or None when no model was ever promoted."""
        data = self._store.read_bytes(join(self.root, POINTER))
        return Pointer.from_json(data.decode()) if data is not None else None

    def set_champion(self, version: int, reason: str = "") -> Pointer:
        """Point the champion at ``version`` (one atomic write), remembering the previous champion."""
        self.meta(version)
        current = self.champion()
        if current is None:
            history: tuple[int, ...] = ()
        elif current.version == version:
            history = current.history
        else:
            history = (*current.history, current.version)
        pointer = (current or Pointer(version)).moved_to(version, history, reason)
        self._store.write_bytes(join(self.root, POINTER), pointer.to_json().encode())
        log.info("model %s: champion is now version %d (%s)", self.name, version, reason or "no reason given")
        return pointer

    def rollback(self) -> Pointer:
        """Make the previous champion the champion again (one atomic write); ModelError when there is none."""
        current = self.champion()
        if current is None or not current.history:
            raise ModelError(f"model {self.name!r}: no previous champion to roll back to")
        pointer = current.moved_to(
            current.history[-1], current.history[:-1], f"rollback from {current.version}"
        )
        self._store.write_bytes(join(self.root, POINTER), pointer.to_json().encode())
        log.info("model %s: rolled back champion %d -> %d", self.name, current.version, pointer.version)
        return pointer

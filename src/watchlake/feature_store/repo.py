"""The Feast repository of annotated windows, built in code from the settings (no ``feature_store.yaml``, no
folder scan): its config, its objects (two entities, a push source, one feature view) and the opened store.

Feast is imported here only, and only when a store is opened (``import feast`` takes seconds): the CLI and the
stage table never pay for it.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from watchlake.feature_store.lock import store_lock
from watchlake.feature_store.rows import (
    CREATED,
    DEVICE,
    EVENT_TIME,
    STRING_FIELDS,
    WINDOW_END_S,
    WINDOW_START_S,
    arrow_schema,
    numeric_fields,
)
from watchlake.lake import Lake, is_remote
from watchlake.settings import Settings

log = logging.getLogger(__name__)

FEATURE_VIEW = "window_labels"
PUSH_SOURCE = "window_labels_push"
DEVICE_ENTITY = "device"
WINDOW_ENTITY = "window_start"

_OPENED: dict[str, Any] = {}  # one applied store per repo config in a process
_OPENING = threading.Lock()


def repo_dir(settings: Settings) -> Path:
    """Feast's repo path (its registry file lives here unless ``feature_store.registry`` says otherwise)."""
    configured = settings.feature_store.repo_dir
    return Path(configured or Path(settings.runtime_dir, "feature_repo")).expanduser().resolve()


def _online_store(settings: Settings) -> dict[str, Any]:
    if settings.feature_store.online_store:
        return dict(settings.feature_store.online_store)
    warehouse = settings.warehouse
    return {
        "type": "postgres",
        "host": warehouse.host,
        "port": warehouse.port,
        "database": warehouse.database,
        "db_schema": settings.feature_store.online_schema,
        "user": warehouse.user,
        "password": warehouse.password.get_secret_value(),
        "sslmode": "disable" if warehouse.host in ("127.0.0.1", "localhost", "::1") else "require",
    }


def _offline_store(settings: Settings) -> dict[str, Any]:
    return dict(settings.feature_store.offline_store) or {"type": "file"}


def repo_config(settings: Settings) -> Any:
    """The Feast ``RepoConfig`` of the settings."""
    from feast import RepoConfig
    from feast.repo_config import RegistryConfig

    folder = repo_dir(settings)
    registry = settings.feature_store.registry or str(folder / "registry.db")
    return RepoConfig(
        project=settings.feature_store.project,
        provider="aws" if settings.env == "aws" else "local",
        # cache_ttl 0: a store in another process (the annotation service) sees a newly applied definition
        registry=RegistryConfig(registry_type="file", path=registry, cache_ttl_seconds=0),
        online_store=_online_store(settings),
        offline_store=_offline_store(settings),
        repo_path=str(folder),
        entity_key_serialization_version=3,
    )


def _batch_source(settings: Settings) -> Any:
    """Where pushed rows go offline: the lake's Parquet file, or a Redshift / Athena table on AWS."""
    kind = _offline_store(settings)["type"]
    common: dict[str, Any] = {"timestamp_field": EVENT_TIME, "created_timestamp_column": CREATED}
    if kind == "redshift":
        from feast import RedshiftSource

        return RedshiftSource(
            name="window_labels_table", table=settings.feature_store.offline_table, **common
        )
    if kind == "athena":
        from feast.infra.offline_stores.contrib.athena_offline_store.athena_source import AthenaSource

        return AthenaSource(name="window_labels_table", table=settings.feature_store.offline_table, **common)
    from feast import FileSource

    return FileSource(name="window_labels_file", path=Lake.from_settings(settings).window_labels, **common)


def definitions(settings: Settings) -> list[Any]:
    """The repo's objects: entities ``device`` (device_id) and ``window_start`` (window_start_s, epoch seconds)
    that together name one window, the push source, and the feature view of features + label + provenance.

    ``ttl`` 0: a label never expires, so a point-in-time join finds the newest row at or before any time."""
    from feast import Entity, FeatureView, Field, PushSource, ValueType
    from feast.types import Float64, Int64, String

    device = Entity(name=DEVICE_ENTITY, join_keys=[DEVICE], value_type=ValueType.STRING)
    window = Entity(name=WINDOW_ENTITY, join_keys=[WINDOW_START_S], value_type=ValueType.INT64)
    push = PushSource(name=PUSH_SOURCE, batch_source=_batch_source(settings))
    schema = [
        Field(name=DEVICE, dtype=String),
        Field(name=WINDOW_START_S, dtype=Int64),
        Field(name=WINDOW_END_S, dtype=Int64),
        *(Field(name=name, dtype=Float64) for name in numeric_fields()),
        *(Field(name=name, dtype=String) for name in STRING_FIELDS),
    ]
    view = FeatureView(
        name=FEATURE_VIEW,
        entities=[device, window],
        ttl=timedelta(0),
        schema=schema,
        source=push,
        online=True,
        description="Annotated feature windows: one row per label submission (undo: label null); newest wins.",
    )
    return [device, window, push, view]


def _ensure_offline_file(settings: Settings) -> None:
    """Feast's file store appends by reading the existing file: create it empty, with the columns it expects."""
    if _offline_store(settings)["type"] not in ("file", "dask"):
        return
    path = Lake.from_settings(settings).window_labels
    if is_remote(path) or Path(path).exists():
        return
    import pyarrow.parquet as pq

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(path).with_name(".window_labels.parquet.new")
    pq.write_table(arrow_schema().empty_table(), temporary)
    temporary.replace(path)


def open_store(settings: Settings) -> Any:
    """The applied ``FeatureStore`` of the settings (applied once per process; apply is idempotent)."""
    config = repo_config(settings)
    key = config.model_dump_json()
    with _OPENING:
        if key not in _OPENED:
            from feast import FeatureStore

            with store_lock(repo_dir(settings), settings.feature_store.lock_timeout_seconds):
                _ensure_offline_file(settings)
                store = FeatureStore(config=config)
                store.apply(definitions(settings))
            log.info("feature store %s applied at %s", config.project, config.repo_path)
            _OPENED[key] = store
        return _OPENED[key]

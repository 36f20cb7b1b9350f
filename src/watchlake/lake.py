"""Names of the lake's layers, datasets and catalog tables: the only place paths are spelled.

Layers: ``staging`` holds the CASAS CSVs as delivered (immutable; synthetic data enters here too), ``processed``
the cleaned readings, ``rejected`` the rows cleaning refused with a reason, ``stats``, ``features``, ``models``,
``predictions``, ``reports``, ``feature_store`` (Feast's offline store of labels), and ``checkpoints`` for streaming queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from watchlake.settings import Settings

LAYERS = (
    "staging",
    "processed",
    "rejected",
    "stats",
    "features",
    "models",
    "predictions",
    "reports",
    "checkpoints",
    "manifests",
    "feature_store",
)


def is_remote(uri: str) -> bool:
    """True for object-store URIs (``s3://``, ``s3a://``, ...), false for local paths."""
    return "://" in uri and not uri.startswith("file://")


def join(root: str, *parts: str) -> str:
    """Join path parts onto a local path or a URI without touching the scheme."""
    cleaned = [part.strip("/") for part in parts if part]
    return "/".join([root.rstrip("/"), *cleaned]) if cleaned else root


@dataclass(frozen=True)
class Lake:
    """Dataset locations and table names derived from the settings."""

    root: str
    database: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Lake:
        root = settings.lake.root
        if not is_remote(root):
            root = str(Path(root.removeprefix("file://")).expanduser().resolve())
        return cls(root=root, database=settings.catalog.database)

    def layer(self, name: str) -> str:
        if name not in LAYERS:
            raise ValueError(f"unknown lake layer {name!r}; known layers: {', '.join(LAYERS)}")
        return join(self.root, name)

    # Datasets -----------------------------------------------------------------------------------------
    @property
    def staging(self) -> str:
        """CASAS CSV files, ``staging/<group>/sw1.pN.csv``, exactly as unpacked from the archives."""
        return self.layer("staging")

    @property
    def readings(self) -> str:
        """Cleaned readings, Parquet partitioned by participant and date."""
        return join(self.layer("processed"), "readings")

    @property
    def rejected_readings(self) -> str:
        """Rows cleaning refused, with a reason; Parquet partitioned by reason."""
        return join(self.layer("rejected"), "readings")

    @property
    def activity_stats(self) -> str:
        return join(self.layer("stats"), "activity_stats")

    @property
    def windows(self) -> str:
        return join(self.layer("features"), "windows")

    @property
    def models(self) -> str:
        return self.layer("models")

    @property
    def predictions(self) -> str:
        """``watchlake score``: window predictions, Parquet partitioned by participant (a run replaces the
        participants it scored), each row naming its ``run_id``."""
        return join(self.layer("predictions"), "windows")

    @property
    def score_scratch(self) -> str:
        """Where ``watchlake score --source`` cleans a staging folder (``readings``, ``rejected``), replaced on
        every such run; never the processed layer."""
        return join(self.layer("predictions"), "_scratch")

    @property
    def feature_store(self) -> str:
        """The Feast offline store of annotated windows (local and file-based stores): one Parquet file of label
        rows, appended to on every push, never rewritten row by row."""
        return self.layer("feature_store")

    @property
    def window_labels(self) -> str:
        return join(self.feature_store, "window_labels.parquet")

    @property
    def reports(self) -> str:
        return self.layer("reports")

    @property
    def score_reports(self) -> str:
        """One folder per scoring run of labelled data: ``<run id>/metrics.json`` and ``confusion_matrix.png``."""
        return join(self.reports, "score")

    @property
    def train_reports(self) -> str:
        """One folder per training run: ``<run id>/metrics.json`` and ``confusion_matrix.png``."""
        return join(self.reports, "train")

    @property
    def retrain_reports(self) -> str:
        """One folder per ``watchlake retrain`` run: ``retrain.json`` (both models' figures, the decision) and
        a confusion-matrix PNG per model."""
        return join(self.reports, "retrain")

    @property
    def synthetic_staging(self) -> str:
        """Synthetic watches in CASAS format, ``staging/synthetic/sw1.pN.csv`` (N from 90000), cleaned like real data."""
        return join(self.staging, "synthetic")

    @property
    def fidelity_reports(self) -> str:
        """``watchlake fidelity``: ``fidelity.json`` and PNG plots of generated versus source statistics."""
        return join(self.reports, "fidelity")

    @property
    def manifests(self) -> str:
        return self.layer("manifests")

    @property
    def staging_manifest_name(self) -> str:
        """File name, under :attr:`manifests`, of the JSON Lines manifest of staging (path, size_bytes, sha256)."""
        return "staging.jsonl"

    @property
    def staging_manifest(self) -> str:
        return join(self.manifests, self.staging_manifest_name)

    @property
    def quarantine_name(self) -> str:
        """File name, under :attr:`manifests`, of the JSON Lines listing of files ingest set aside (with reasons)."""
        return "quarantine.jsonl"

    @property
    def quarantine(self) -> str:
        return join(self.manifests, self.quarantine_name)

    def checkpoint(self, query_name: str) -> str:
        """The checkpoint folder of one named streaming query."""
        return join(self.layer("checkpoints"), query_name)

    # Catalog tables -----------------------------------------------------------------------------------
    def table(self, name: str) -> str:
        return f"{self.database}.{name}"

    @property
    def readings_table(self) -> str:
        return self.table("readings")

    @property
    def rejected_table(self) -> str:
        return self.table("readings_rejected")

    @property
    def activity_stats_table(self) -> str:
        return self.table("activity_stats")

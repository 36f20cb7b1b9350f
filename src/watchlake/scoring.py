"""Scoring API: load the champion model; score a DataFrame of feature windows (:func:`score`), or windows the
driver already holds (:func:`score_values`: the streaming predictor's few windows per micro-batch, scored by the
model's own code without planning a Spark query each time).

The streaming predictor calls exactly :func:`load_champion`, :meth:`ChampionModel.refresh` (cheap: one small
pointer read; reloads only when the champion changed) and :func:`score_values`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pyspark.ml import PipelineModel
from pyspark.ml.feature import StringIndexerModel, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from watchlake.errors import DataQualityError, ModelError
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS
from watchlake.jvm import class_probabilities
from watchlake.registry.registry import ModelRegistry
from watchlake.settings import Settings

log = logging.getLogger(__name__)

# Columns score() adds to the windows.
SCORE_COLUMNS: tuple[str, ...] = (
    "predicted_activity",
    "probabilities",
    "class_probabilities",
    "confidence",
    "margin",
    "entropy",
    "model_name",
    "model_version",
)
_MODEL_OUTPUTS = ("features", "rawPrediction", "probability", "prediction")


@dataclass
class ChampionModel:
    """The champion's fitted pipeline, its version and classes (``probabilities[i]`` is ``classes[i]``)."""

    name: str
    version: int
    classes: tuple[str, ...]
    model: PipelineModel
    registry: ModelRegistry
    # Columns the model reads (meta.json of the version); score() refuses windows that lack one.
    inputs: tuple[str, ...] = (*FEATURE_COLUMNS, *CATEGORICAL_COLUMNS)

    def refresh(self, spark: SparkSession) -> bool:
        """Reload if the champion pointer moved; True when a different version was loaded."""
        pointer = self.registry.champion()
        if pointer is None or pointer.version == self.version:
            return False
        loaded = _load_version(self.registry, pointer.version, spark)
        log.info("champion %s changed: version %d -> %d", self.name, self.version, loaded.version)
        self.version, self.classes, self.model = loaded.version, loaded.classes, loaded.model
        self.inputs = loaded.inputs
        return True


def _load_version(registry: ModelRegistry, version: int, spark: SparkSession) -> ChampionModel:
    meta = registry.meta(version)
    model = registry.load(version, spark)
    inputs = (
        *meta.get("feature_columns", FEATURE_COLUMNS),
        *meta.get("categorical_columns", CATEGORICAL_COLUMNS),
    )
    return ChampionModel(registry.name, version, tuple(meta["classes"]), model, registry, tuple(inputs))


def load_champion(settings: Settings, spark: SparkSession, name: str | None = None) -> ChampionModel:
    """The current champion of ``name`` (default ``settings.train.model_name``); ModelError if none."""
    registry = ModelRegistry.from_settings(settings, name)
    pointer = registry.champion()
    if pointer is None:
        raise ModelError(f"model {registry.name!r} has no champion yet; run `watchlake train` first")
    return _load_version(registry, pointer.version, spark)


def load_version(
    settings: Settings, spark: SparkSession, version: int, name: str | None = None
) -> ChampionModel:
    """Registered ``version`` of ``name`` (default ``settings.train.model_name``); ModelError if it is not."""
    registry = ModelRegistry.from_settings(settings, name)
    if version not in registry.versions():
        raise ModelError(
            f"model {registry.name!r} has no version {version}; `watchlake train --show` lists the versions"
        )
    return _load_version(registry, version, spark)


def score(model: ChampionModel, windows: DataFrame) -> DataFrame:
    """``windows`` (FEATURE_COLUMNS + CATEGORICAL_COLUMNS) plus SCORE_COLUMNS.

    ``probabilities`` is an array in ``model.classes`` order (sums to 1), ``class_probabilities`` the same as a
    map; ``confidence`` the highest probability, ``margin`` highest minus second highest (the highest when there
    is one class), ``entropy`` in nats. Intermediate model columns are dropped. Works on streaming DataFrames.
    """
    missing = [name for name in model.inputs if name not in windows.columns]
    if missing:
        raise ModelError(
            f"model {model.name!r} version {model.version} needs window columns {missing[:5]} (of {len(missing)} "
            "missing); build windows with watchlake.features.transforms.to_windows"
        )
    scored = model.model.transform(windows)
    probabilities = vector_to_array(F.col("probability"))
    classes = F.array(*[F.lit(name) for name in model.classes])
    ranked = F.sort_array(F.col("probabilities"), asc=False)
    entropy = F.aggregate(
        F.col("probabilities"), F.lit(0.0), lambda acc, p: acc - F.when(p > 0, p * F.log(p)).otherwise(0.0)
    )
    indexed = [name for name in scored.columns if name.endswith("_index") and name not in windows.columns]
    return (
        scored.withColumn("probabilities", probabilities)
        .withColumn("predicted_activity", F.element_at(classes, F.col("prediction").cast("int") + 1))
        .withColumn("class_probabilities", F.map_from_arrays(classes, F.col("probabilities")))
        .withColumn("confidence", F.array_max(F.col("probabilities")))
        .withColumn("margin", ranked[0] - F.coalesce(F.try_element_at(ranked, F.lit(2)), F.lit(0.0)))
        .withColumn("entropy", entropy)
        .withColumn("model_name", F.lit(model.name))
        .withColumn("model_version", F.lit(model.version))
        .drop(*_MODEL_OUTPUTS, *indexed)
        .select(*windows.columns, *SCORE_COLUMNS)
    )


@dataclass(frozen=True)
class Scores:
    """Scores of n windows: ``probabilities`` (n x classes, in ``ChampionModel.classes`` order) and, per window,
    the predicted class, ``confidence`` (highest probability), ``margin`` and ``entropy`` as :func:`score` defines
    them."""

    probabilities: np.ndarray
    predicted: list[str]
    confidence: np.ndarray
    margin: np.ndarray
    entropy: np.ndarray


def finite_rows(values: np.ndarray) -> np.ndarray:
    """Which windows (rows of ``values``) have only finite feature values: the only ones that may be scored.

    A random forest sends a NaN feature down one side of every split and answers with a confident class, so a
    non-finite value from any path (a message check missed, a numeric edge of the feature code) would otherwise
    become a plausible-looking prediction."""
    return np.isfinite(values).all(axis=1)


def score_values(
    model: ChampionModel, values: np.ndarray, categoricals: Mapping[str, Sequence[str | None]]
) -> Scores:
    """Score windows held by the driver: ``values`` (n x len(FEATURE_COLUMNS), that order) and, per
    CATEGORICAL_COLUMNS name, the n values. Same probabilities as :func:`score` (the classifier's own
    ``predictProbability``, one JVM call for all rows); the indexers and assembler are applied here.

    DataQualityError when a window has a NaN or infinite feature: set those aside first (:func:`finite_rows`)."""
    unscorable = int((~finite_rows(values)).sum()) if values.size else 0
    if unscorable:
        raise DataQualityError(
            f"{unscorable} of {values.shape[0]} windows have NaN or infinite features and cannot be scored; "
            "keep only watchlake.scoring.finite_rows(values) and set the others aside"
        )
    stages = model.model.stages
    classifier = stages[-1]
    assembler = next((stage for stage in stages if isinstance(stage, VectorAssembler)), None)
    if assembler is None or not hasattr(classifier, "numClasses"):
        raise ModelError(
            f"model {model.name!r} version {model.version} is not an assembler + classifier pipeline"
        )
    rows = values.shape[0]
    if rows == 0:
        empty = np.zeros(0)
        return Scores(np.zeros((0, len(model.classes))), [], empty, empty, empty)
    matrix = np.column_stack(
        [_assembled_column(name, stages, values, categoricals) for name in assembler.getInputCols()]
    )
    probabilities = class_probabilities(classifier, matrix)
    ranked = -np.sort(-probabilities, axis=1)
    second = ranked[:, 1] if probabilities.shape[1] > 1 else np.zeros(rows)
    logs = np.log(np.where(probabilities > 0, probabilities, 1.0))
    return Scores(
        probabilities=probabilities,
        predicted=[model.classes[i] for i in probabilities.argmax(axis=1)],
        confidence=ranked[:, 0],
        margin=ranked[:, 0] - second,
        entropy=-(probabilities * logs).sum(axis=1),
    )


def _assembled_column(
    name: str, stages: list, values: np.ndarray, categoricals: Mapping[str, Sequence[str | None]]
) -> np.ndarray:
    """Assembler input ``name``: a feature column of ``values``, or an indexer's output for its categorical."""
    if name in FEATURE_COLUMNS:
        return values[:, FEATURE_COLUMNS.index(name)]
    indexer = next(
        (s for s in stages if isinstance(s, StringIndexerModel) and s.getOutputCol() == name), None
    )
    if indexer is None or indexer.getInputCol() not in categoricals:
        raise ModelError(
            f"the model reads {name!r}, which these windows lack; retrain with `watchlake train`"
        )
    if indexer.getHandleInvalid() != "keep":
        raise ModelError(f"indexer of {indexer.getInputCol()!r} must keep unseen values (handleInvalid=keep)")
    labels = {label: index for index, label in enumerate(indexer.labels)}
    unseen = len(labels)
    return np.array([labels.get(value, unseen) for value in categoricals[indexer.getInputCol()]], dtype=float)

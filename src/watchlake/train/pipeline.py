"""The Spark ML pipeline of the activity classifier: index categoricals, assemble, classify.

Training fits the label indexer separately, so the saved scoring model (``TrainedModel.model``) needs only the
feature columns: the streaming predictor has no label column.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.ml import Pipeline, PipelineModel, Transformer
from pyspark.ml.classification import LogisticRegression, RandomForestClassifier
from pyspark.ml.feature import StringIndexer, StringIndexerModel, VectorAssembler
from pyspark.sql import DataFrame

from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS
from watchlake.settings import TrainSettings
from watchlake.train.transforms import WEIGHT

log = logging.getLogger(__name__)

LABEL_INDEX = "label_index"
FEATURES_VECTOR = "features"


@dataclass(frozen=True)
class TrainedModel:
    """A fitted scoring pipeline and its classes; ``prediction`` i means ``classes[i]``."""

    model: PipelineModel
    classes: tuple[str, ...]


def _classifier(train: TrainSettings) -> Transformer:
    common = {"featuresCol": FEATURES_VECTOR, "labelCol": LABEL_INDEX, "weightCol": WEIGHT}
    if train.classifier == "logistic_regression":
        return LogisticRegression(maxIter=100, **common)
    return RandomForestClassifier(
        numTrees=train.num_trees, maxDepth=train.max_depth, seed=train.seed, maxBins=64, **common
    )


def fit_pipeline(windows: DataFrame, train: TrainSettings, *, label_col: str) -> TrainedModel:
    """Fit on ``windows`` (FEATURE_COLUMNS, CATEGORICAL_COLUMNS, ``label_col``, ``class_weight``).

    Categorical values unseen in training get their own index at scoring time (``handleInvalid=keep``).
    """
    labels: StringIndexerModel = StringIndexer(
        inputCol=label_col, outputCol=LABEL_INDEX, stringOrderType="alphabetAsc"
    ).fit(windows)
    indexers = [
        StringIndexer(inputCol=name, outputCol=f"{name}_index", handleInvalid="keep")
        for name in CATEGORICAL_COLUMNS
    ]
    assembler = VectorAssembler(
        inputCols=[*FEATURE_COLUMNS, *(f"{name}_index" for name in CATEGORICAL_COLUMNS)],
        outputCol=FEATURES_VECTOR,
    )
    fitted = Pipeline(stages=[*indexers, assembler, _classifier(train)]).fit(labels.transform(windows))
    log.info("fitted %s on %d classes", train.classifier, len(labels.labels))
    return TrainedModel(model=fitted, classes=tuple(labels.labels))

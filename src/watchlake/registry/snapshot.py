"""A loaded model kept as one Java-serialized file on local disk, so the next process loads it in a fraction of a
second instead of seconds.

``PipelineModel.load`` runs several small Spark jobs (each stage's metadata, the indexer's labels, the forest's
trees with a shuffle), which in a fresh JVM cost about 5 s of a predictor's or a scorer's start (0.4 s read back
from a snapshot, measured on the test champion). Spark ML models are ``java.io.Serializable`` (Spark ships them to
its tasks that way), so once a version has been loaded the registry writes its Java object here and later loads
read it back.

The file is a cache of an immutable registry version, never the record: it lives in the local ``runtime_dir``
(written by this user; like the JVM class archive, it is trusted as this machine's own), its name carries the Spark
and Java versions that wrote it, and anything that does not read back as a PipelineModel is ignored and rewritten
from the registry.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any

from py4j.java_gateway import JavaObject  # type: ignore[import-untyped]
from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]
from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

PIPELINE_MODEL_CLASS = "org.apache.spark.ml.PipelineModel"


def snapshot_path(folder: Path, spark: SparkSession) -> Path:
    """The snapshot file in ``folder`` for this session's Spark and Java versions."""
    java = _jvm(spark).java.lang.System.getProperty("java.version")
    return folder / f"pipeline-spark{spark.version}-java{java}.ser"


def read_snapshot(path: Path, spark: SparkSession) -> PipelineModel | None:
    """The PipelineModel in ``path``; None when there is none or it does not read back as one (logged)."""
    if not path.is_file():
        return None
    jvm = _jvm(spark)
    try:
        stream = jvm.java.io.ObjectInputStream(
            jvm.java.io.BufferedInputStream(jvm.java.io.FileInputStream(str(path)))
        )
        try:
            java_model = stream.readObject()
        finally:
            stream.close()
        held = (
            java_model.getClass().getName()
            if isinstance(java_model, JavaObject)
            else type(java_model).__name__
        )
        if held != PIPELINE_MODEL_CLASS:
            raise TypeError(f"it holds a {held}, not a {PIPELINE_MODEL_CLASS}")
        return PipelineModel._from_java(java_model)
    except (Py4JJavaError, TypeError) as error:
        log.warning("model snapshot %s is unreadable, loading from the registry instead: %s", path, error)
        return None


def write_snapshot(path: Path, model: PipelineModel, spark: SparkSession) -> None:
    """Write ``model`` to ``path`` atomically (a partial file is renamed into place); a failure is only logged."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    jvm = _jvm(spark)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = jvm.java.io.ObjectOutputStream(
            jvm.java.io.BufferedOutputStream(jvm.java.io.FileOutputStream(str(partial)))
        )
        try:
            stream.writeObject(model._to_java())
        finally:
            stream.close()
        os.replace(partial, path)
    except (Py4JJavaError, OSError) as error:
        log.warning("could not write the model snapshot %s (later loads take the slow path): %s", path, error)
        partial.unlink(missing_ok=True)


def _jvm(spark: SparkSession) -> Any:
    return spark.sparkContext._jvm

"""The prediction stream's checkpoint: held by one predictor at a time (a lock file beside it), stamped with the
predictor's design, refused when another design wrote it (Spark cannot resume another state layout), and reset
on request (``watchlake predict --reset``)."""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession

from watchlake.checkpoint_lock import CheckpointLock, lock_checkpoint
from watchlake.errors import ConfigError
from watchlake.features.transforms import FEATURE_VERSION
from watchlake.lake import Lake
from watchlake.settings import Settings
from watchlake.spark import hadoop_file_system
from watchlake.warehouse.batches import forget_query
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import ensure_tables

log = logging.getLogger(__name__)

# Written into the query's checkpoint: a checkpoint of another design (state layout) cannot be resumed.
CHECKPOINT_STAMP = "watchlake-predictor"
PREDICTOR_DESIGN = f"per-watch window assembler, feature version {FEATURE_VERSION}"


def lock_predictor(settings: Settings) -> CheckpointLock:
    """Hold the prediction checkpoint for this process; a ServiceError naming the pid of the predictor that
    already holds it."""
    return lock_checkpoint(settings, settings.predict.query_name, "predictor")


def check_checkpoint(spark: SparkSession, settings: Settings) -> None:
    """Stamp a new checkpoint with ``PREDICTOR_DESIGN``; a ConfigError for one another predictor wrote (Spark
    would refuse its state with an error about stateful operators)."""
    checkpoint = Lake.from_settings(settings).checkpoint(settings.predict.query_name)
    fs, path = hadoop_file_system(spark, checkpoint)
    stamp = path(f"{checkpoint}/{CHECKPOINT_STAMP}")
    if fs.exists(stamp):
        stream = fs.open(stamp)
        try:
            found = stream.readUTF()
        finally:
            stream.close()
    else:
        found = "an earlier watchlake" if fs.exists(path(f"{checkpoint}/offsets")) else None
    if found is None:
        out = fs.create(stamp, True)
        try:
            out.writeUTF(PREDICTOR_DESIGN)
        finally:
            out.close()
    elif found != PREDICTOR_DESIGN:
        raise ConfigError(
            f"the checkpoint {checkpoint} was written by {found}, not by this predictor ({PREDICTOR_DESIGN}); "
            "start the stream over with `watchlake predict --reset` (the topic is read again from "
            "predict.starting_offsets; rows already in the warehouse are replaced, not repeated)"
        )


def reset(spark: SparkSession, settings: Settings) -> tuple[bool, int]:
    """Start the prediction stream over: delete its checkpoint and its warehouse ledger rows.

    Returns (whether there was a checkpoint, ledger rows deleted). Predictions, queue rows and dead letters stay:
    reading the topic again MERGEs the same keys.
    """
    checkpoint = Lake.from_settings(settings).checkpoint(settings.predict.query_name)
    lock = lock_predictor(settings)  # never under a running predictor
    try:
        fs, path = hadoop_file_system(spark, checkpoint)
        existed = bool(fs.delete(path(checkpoint), True))
        connection = connect(settings)
        try:
            ensure_tables(connection, settings.warehouse.schema_name)
            deleted = forget_query(connection, settings.warehouse.schema_name, settings.predict.query_name)
        finally:
            connection.close()
    finally:
        lock.release()
    log.info(
        "predict: stream %s reset (checkpoint removed: %s, ledger rows: %d)", checkpoint, existed, deleted
    )
    return existed, deleted

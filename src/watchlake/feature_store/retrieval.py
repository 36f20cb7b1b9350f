"""Read labelled windows back from the feature store for training: Feast's point-in-time historical retrieval,
so a training run ``as_of`` a time sees exactly the labels that were newest then (an undo retracts a window).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from watchlake.feature_store.repo import FEATURE_VIEW, open_store
from watchlake.feature_store.rows import (
    CREATED,
    DEVICE,
    EVENT_TIME,
    LABEL,
    PROVENANCE,
    STRING_FIELDS,
    WINDOW_END_S,
    WINDOW_START_S,
    as_utc,
    numeric_fields,
)
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS, WINDOW_END, WINDOW_START
from watchlake.labels.transforms import ACTIVITY
from watchlake.settings import Settings

PARTICIPANT = "participant"  # the training key: a labelled window's device is its participant
# The columns of labelled_windows, in order.
LABELLED_COLUMNS: tuple[str, ...] = (
    PARTICIPANT,
    WINDOW_START,
    WINDOW_END,
    *FEATURE_COLUMNS,
    *CATEGORICAL_COLUMNS,
    ACTIVITY,
    EVENT_TIME,
    *PROVENANCE,
)


def _utc(moment: datetime | None) -> datetime:
    """``moment`` as an aware UTC time; None: now."""
    return as_utc(moment) if moment is not None else datetime.now(UTC)


def label_rows(settings: Settings, as_of: datetime | None = None) -> Any:
    """Every stored row (labels and undos) with ``labelled_at`` at or before ``as_of`` (default now), as pandas:
    the record, oldest first. Read through the offline store Feast is configured with."""
    from feast.infra.offline_stores.offline_utils import get_offline_store_from_config

    store = open_store(settings)
    view = store.get_feature_view(FEATURE_VIEW)
    offline = get_offline_store_from_config(store.config.offline_store)
    job = offline.pull_all_from_table_or_query(
        config=store.config,
        data_source=view.batch_source,
        join_key_columns=[DEVICE, WINDOW_START_S],
        feature_name_columns=[WINDOW_END_S, *numeric_fields(), *STRING_FIELDS],
        timestamp_field=EVENT_TIME,
        created_timestamp_column=CREATED,
        start_date=datetime(1970, 1, 1, tzinfo=UTC),
        end_date=_utc(as_of),
    )
    rows = job.to_df()
    return rows.sort_values([EVENT_TIME, CREATED]).reset_index(drop=True)


def latest_label_time(settings: Settings, as_of: datetime | None = None) -> datetime | None:
    """The newest ``labelled_at`` at or before ``as_of`` (default now) in the store, naive UTC, undos included;
    None when the store holds no such row."""
    rows = label_rows(settings, as_of)
    if rows.empty:
        return None
    return rows[EVENT_TIME].max().to_pydatetime().astimezone(UTC).replace(tzinfo=None)


def labelled_windows(settings: Settings, spark: Any = None, as_of: datetime | None = None) -> Any:
    """The windows whose newest row at or before ``as_of`` carries a label, with LABELLED_COLUMNS (window times
    naive UTC, ``activity`` the label): pandas, or a Spark DataFrame when ``spark`` is given.

    Point-in-time: an entity row per stored window at ``as_of`` and Feast's historical retrieval; a window whose
    newest row is an undo (label null) is left out."""
    import pandas as pd

    moment = _utc(as_of)
    rows = label_rows(settings, moment)
    keys = rows[[DEVICE, WINDOW_START_S]].drop_duplicates().reset_index(drop=True)
    if keys.empty:
        frame = pd.DataFrame(columns=list(LABELLED_COLUMNS))
    else:
        keys["event_timestamp"] = pd.Timestamp(moment)
        features = [f"{FEATURE_VIEW}:{name}" for name in (WINDOW_END_S, *numeric_fields(), *STRING_FIELDS)]
        found = open_store(settings).get_historical_features(entity_df=keys, features=features).to_df()
        found = found[found[LABEL].notna()]
        latest = rows.groupby([DEVICE, WINDOW_START_S])[EVENT_TIME].max().rename(EVENT_TIME).reset_index()
        found = found.merge(latest, on=[DEVICE, WINDOW_START_S], how="left")
        frame = _to_windows(found)
    if spark is None:
        return frame
    return to_spark(spark, frame)


def _to_windows(found: Any) -> Any:
    import pandas as pd

    columns: dict[str, Any] = {
        PARTICIPANT: found[DEVICE].astype(str).to_numpy(),
        WINDOW_START: pd.to_datetime(found[WINDOW_START_S], unit="s").to_numpy(),
        WINDOW_END: pd.to_datetime(found[WINDOW_END_S].astype("int64"), unit="s").to_numpy(),
        **{name: found[name].to_numpy() for name in (*FEATURE_COLUMNS, *CATEGORICAL_COLUMNS)},
        ACTIVITY: found[LABEL].to_numpy(),
        EVENT_TIME: pd.to_datetime(found[EVENT_TIME], utc=True).dt.tz_localize(None).to_numpy(),
        **{name: found[name].to_numpy() for name in PROVENANCE},
    }
    frame = pd.DataFrame(columns)
    return frame.sort_values([PARTICIPANT, WINDOW_START]).reset_index(drop=True)[list(LABELLED_COLUMNS)]


def labelled_schema() -> Any:
    """The Spark schema of labelled_windows."""
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

    fields = [
        StructField(PARTICIPANT, StringType(), False),
        StructField(WINDOW_START, TimestampType(), False),
        StructField(WINDOW_END, TimestampType(), False),
        *(StructField(name, DoubleType(), True) for name in FEATURE_COLUMNS),
        *(StructField(name, StringType(), True) for name in CATEGORICAL_COLUMNS),
        StructField(ACTIVITY, StringType(), True),
        StructField(EVENT_TIME, TimestampType(), True),
        *(StructField(name, StringType(), True) for name in PROVENANCE),
    ]
    return StructType(fields)


def to_spark(spark: Any, frame: Any) -> Any:
    """labelled_windows as a Spark DataFrame with :func:`labelled_schema` (the session is UTC, times naive UTC)."""
    records = [tuple(row) for row in frame.itertuples(index=False, name=None)]
    cleaned = [
        tuple(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value for value in record)
        for record in records
    ]
    return spark.createDataFrame(cleaned, labelled_schema())

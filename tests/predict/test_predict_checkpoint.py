"""The predictor's checkpoint says which predictor wrote it: one of another design is refused with the way out
(``--reset``), which starts the stream over without losing or repeating warehouse rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import psycopg2
import pytest

from conftest import make_settings
from watchlake.errors import ConfigError
from watchlake.lake import Lake
from watchlake.predict.checkpoint import CHECKPOINT_STAMP, PREDICTOR_DESIGN, check_checkpoint, reset
from watchlake.warehouse.batches import committed_batches, write_batch
from watchlake.warehouse.connection import connection_kwargs
from watchlake.warehouse.tables import PREDICTIONS, ensure_tables

T0 = datetime(2026, 1, 1, 12, 0)


def test_a_new_checkpoint_is_stamped_and_accepted_again(spark, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    check_checkpoint(spark, settings)
    check_checkpoint(spark, settings)
    stamp = Path(Lake.from_settings(settings).checkpoint("predict")) / CHECKPOINT_STAMP
    assert PREDICTOR_DESIGN in stamp.read_bytes().decode("utf-8", "replace")


def test_a_checkpoint_of_an_earlier_predictor_is_refused(spark, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    checkpoint = Path(Lake.from_settings(settings).checkpoint("predict"))
    (checkpoint / "offsets").mkdir(parents=True)  # what Spark leaves after a batch: no stamp
    with pytest.raises(ConfigError, match=r"earlier watchlake.*watchlake predict --reset"):
        check_checkpoint(spark, settings)


@pytest.mark.services
def test_reset_removes_checkpoint_and_ledger_but_keeps_rows(spark, postgres_settings) -> None:
    settings = postgres_settings
    schema = settings.warehouse.schema_name
    check_checkpoint(spark, settings)
    connection = psycopg2.connect(**connection_kwargs(settings))
    try:
        ensure_tables(connection, schema)
        row = ("w1", T0, T0, "Relax", "{}", 1.0, 1.0, 0.0, 600, False, "1", "predict", 0, T0, 5.0)
        write_batch(connection, schema, "predict", 0, {PREDICTIONS: [row]})
        write_batch(connection, schema, "other-query", 0, {})
        assert reset(spark, settings) == (True, 1)
        assert not Path(Lake.from_settings(settings).checkpoint("predict")).exists()
        assert committed_batches(connection, schema, "predict") == set()
        assert committed_batches(connection, schema, "other-query") == {0}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {schema}.predictions")
            assert cursor.fetchone() == (1,)
        connection.rollback()
    finally:
        connection.close()

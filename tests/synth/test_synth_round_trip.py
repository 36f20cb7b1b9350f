"""Synthetic CASAS files go through clean and stats like real data and come back with the statistics they were
made from; the fidelity report on them is written and small."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth_stats import SHARES, make_stats

from watchlake.clean.job import run as clean
from watchlake.lake import Lake
from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS
from watchlake.settings import Settings
from watchlake.stats.job import run as compute_stats
from watchlake.stats.store import load_activity_stats
from watchlake.synth.job import run_batch
from watchlake.synth.report import FILES, run_fidelity

pytestmark = pytest.mark.slow


@pytest.fixture
def round_trip_settings(settings: Settings) -> Settings:
    generate = settings.generate.model_copy(
        update={
            "devices": 2,
            "start": "2026-01-01T08:00:00",
            "schedule_segments": 8,
            "fidelity_sample_rows": 3000,
        }
    )
    return settings.model_copy(update={"generate": generate})


def test_synthetic_data_round_trips_through_clean_and_stats(spark, round_trip_settings: Settings) -> None:
    source = make_stats()
    rows = 16_000
    batch = run_batch(spark, round_trip_settings, source, rows)
    cleaned = clean(round_trip_settings, spark)
    assert (batch.files, cleaned.rows_in, cleaned.rows_kept, cleaned.rows_rejected) == (2, rows, rows, 0)

    compute_stats(round_trip_settings, spark)
    found = load_activity_stats(spark, round_trip_settings)
    assert set(found.classes) == set(SHARES)
    assert found.sampling_hz == pytest.approx(10.0)
    for name, cls in found.classes.items():
        for column in ("yaw", "user_acceleration_z", "speed"):
            expected, got = source.classes[name].numeric[column], cls.numeric[column]
            assert abs(got.mean - expected.mean) <= 0.1 * expected.sd, (name, column)
            assert got.sd == pytest.approx(expected.sd, rel=0.1), (name, column)

    result = run_fidelity(spark, round_trip_settings, found, 20_000)
    folder = Path(Lake.from_settings(round_trip_settings).fidelity_reports)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    report = json.loads((folder / "fidelity.json").read_text())
    assert set(report["classes"]) == set(SHARES)
    assert result.summary["max_mean_relative_error"] < 0.1
    assert result.summary["max_sd_relative_error"] < 0.1
    # KS on samples of about 1,000 readings per class: motion axes vary per reading, but a message carries one
    # location fix for its 10 readings, so location samples hold a tenth as many independent values.
    ks = {
        (name, column): values["ks"]
        for name, cls in report["classes"].items()
        for column, values in cls["numeric"].items()
    }
    assert max(v for (_, column), v in ks.items() if column in MOTION_FIELDS) < 0.1
    assert max(v for (_, column), v in ks.items() if column in LOCATION_FIELDS) < 0.15
    assert result.summary["max_ks"] == max(ks.values())
    assert result.summary["max_category_share_error"] < 0.05

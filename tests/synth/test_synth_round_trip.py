"""Synthetic CASAS files go through clean and stats like real data and come back with the statistics they were
made from; the fidelity report on them is written and small."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from synth_stats import SHARES, make_stats

from watchlake.clean.job import run as clean
from watchlake.lake import Lake
from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS
from watchlake.settings import Settings, with_section
from watchlake.stats.job import run as compute_stats
from watchlake.stats.model import ActivityStats
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

    # The report's own draws are independent of the lake's (another seed): with the lake's seed and nearly the same
    # statistics the generator would repeat the lake's readings, and every KS would be near 0 whatever it did.
    report_settings = with_section(
        round_trip_settings, "generate", seed=round_trip_settings.generate.seed + 1
    )
    result = run_fidelity(spark, report_settings, found, 20_000)
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
    # Category shares are drawn per message (about 2,000 here, a few hundred per class): independent draws put
    # a share about 0.03 off at one standard error, and the worst of some twenty shares near 0.07.
    shares = {
        (name, column, key): abs(pair["source"] - pair["generated"])
        for name, cls in report["classes"].items()
        for column in ("location_type", "battery_state")
        for key, pair in cls[column].items()
    }
    assert result.summary["max_category_share_error"] < 0.1, sorted(shares.items(), key=lambda kv: -kv[1])[:3]


def _shifted(stats: ActivityStats, name: str, column: str, sds: float) -> ActivityStats:
    """``stats`` with one class's column moved by ``sds`` standard deviations (range moved with it)."""
    summary = stats.classes[name].numeric[column]
    step = sds * summary.sd
    moved = dataclasses.replace(
        summary, mean=summary.mean + step, min=summary.min + step, max=summary.max + step
    )
    cls = stats.classes[name]
    changed = dataclasses.replace(cls, numeric={**cls.numeric, column: moved})
    return dataclasses.replace(stats, classes={**stats.classes, name: changed})


def test_fidelity_report_flags_the_class_and_column_that_differ(spark, round_trip_settings: Settings) -> None:
    source = make_stats()
    run_batch(spark, round_trip_settings, source, 16_000)
    clean(round_trip_settings, spark)
    report_settings = with_section(
        round_trip_settings, "generate", seed=round_trip_settings.generate.seed + 1
    )
    run_fidelity(spark, report_settings, _shifted(source, "Exercise", "yaw", 1.0), 20_000)
    folder = Path(Lake.from_settings(round_trip_settings).fidelity_reports)
    report = json.loads((folder / "fidelity.json").read_text())
    ks = {
        (name, column): values["ks"]
        for name, cls in report["classes"].items()
        for column, values in cls["numeric"].items()
        if column in MOTION_FIELDS
    }
    # One sd apart, two normals differ by 2 * Phi(0.5) - 1 = 0.38 in KS; the rest match within sampling noise.
    assert ks.pop(("Exercise", "yaw")) > 0.3
    assert max(ks.values()) < 0.1

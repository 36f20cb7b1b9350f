"""score(): the added columns, probabilities of every class summing to 1, confidence/margin/entropy; refresh."""

from __future__ import annotations

import math

import pytest

from fixtures_models import tiny_windows
from watchlake.registry.registry import ModelRegistry
from watchlake.registry.store import LocalStore
from watchlake.scoring import SCORE_COLUMNS, ChampionModel, score


@pytest.fixture
def champion(tiny_model, tmp_path):
    registry = ModelRegistry(str(tmp_path / "models"), "activity", LocalStore(), cache_dir=tmp_path / "cache")
    return ChampionModel("activity", 7, tiny_model.classes, tiny_model.model, registry)


def test_score_adds_columns_and_keeps_window_columns(spark, champion):
    windows = tiny_windows(spark, rows=40).drop("activity", "class_weight")
    scored = score(champion, windows)
    assert scored.columns == [*windows.columns, *SCORE_COLUMNS]


def test_score_probabilities_sum_to_one_and_confidence_measures(spark, champion):
    rows = score(champion, tiny_windows(spark, rows=40)).collect()
    assert champion.classes == ("Exercise", "Relax", "Work")
    for row in rows:
        probabilities = row.probabilities
        assert sum(probabilities) == pytest.approx(1.0)
        assert row.class_probabilities == dict(zip(champion.classes, probabilities, strict=True))
        assert row.predicted_activity == champion.classes[probabilities.index(max(probabilities))]
        assert row.confidence == pytest.approx(max(probabilities))
        top, second = sorted(probabilities, reverse=True)[:2]
        assert row.margin == pytest.approx(top - second)
        assert row.entropy == pytest.approx(-sum(p * math.log(p) for p in probabilities if p > 0))
        assert (row.model_name, row.model_version) == ("activity", 7)
    accuracy = sum(row.predicted_activity == row.activity for row in rows) / len(rows)
    assert accuracy >= 0.75  # training rows; the label is a threshold on one of 110 features


@pytest.mark.slow
def test_refresh_reloads_only_when_champion_moves(spark, tiny_model, tmp_path):
    registry = ModelRegistry(str(tmp_path / "models"), "activity", LocalStore(), cache_dir=tmp_path / "cache")
    meta = {"classes": list(tiny_model.classes)}
    registry.set_champion(registry.register(tiny_model.model, meta))
    champion = ChampionModel("activity", 1, tiny_model.classes, tiny_model.model, registry)
    assert not champion.refresh(spark)
    registry.set_champion(registry.register(tiny_model.model, meta))
    assert champion.refresh(spark) and champion.version == 2


def test_score_refuses_windows_without_model_inputs(spark, champion):
    from watchlake.errors import ModelError

    windows = tiny_windows(spark, rows=5).drop("speed_mean")
    with pytest.raises(ModelError, match="speed_mean"):
        score(champion, windows)

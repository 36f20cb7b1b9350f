"""The promotion decision: first model wins, a challenger must beat the champion by more than the margin."""

from __future__ import annotations

import pytest

from watchlake.registry.promotion import decide_promotion


def test_decide_promotion_first_model_becomes_champion():
    assert decide_promotion({"macro_f1": 0.1}, None).promote


@pytest.mark.parametrize(
    ("challenger", "champion", "margin", "promote"),
    [
        (0.80, 0.70, 0.05, True),
        (0.75, 0.70, 0.05, False),  # exactly the margin is not enough
        (0.74, 0.70, 0.05, False),
        (0.71, 0.70, 0.0, True),
        (0.70, 0.70, 0.0, False),
        (0.60, 0.70, 0.0, False),
    ],
)
def test_decide_promotion_needs_more_than_margin(challenger, champion, margin, promote):
    decision = decide_promotion({"macro_f1": challenger}, {"macro_f1": champion}, margin=margin)
    assert decision.promote is promote
    assert f"{challenger:.4f}" in decision.reason


def test_decide_promotion_uses_the_chosen_metric():
    challenger = {"macro_f1": 0.5, "accuracy": 0.9}
    champion = {"macro_f1": 0.6, "accuracy": 0.8}
    assert decide_promotion(challenger, champion, metric="accuracy").promote
    assert not decide_promotion(challenger, champion, metric="macro_f1").promote


def test_decide_promotion_champion_that_cannot_score_loses():
    assert decide_promotion({"macro_f1": 0.2}, {"version": 3.0}).promote

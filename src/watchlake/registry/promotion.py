"""The promotion decision: pure, so it is tested without Spark or storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide_promotion(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    *,
    metric: str = "macro_f1",
    margin: float = 0.0,
) -> Decision:
    """Promote when there is no champion, or the challenger beats it by more than ``margin`` on ``metric``.

    Both metric sets must come from the SAME held-out data (the caller scores the champion on the challenger's
    test set). A champion without the metric (e.g. it could not score the current features) loses.
    """
    if metric not in challenger:
        raise KeyError(f"challenger metrics lack {metric!r}")
    score = float(challenger[metric])
    if champion is None:
        return Decision(True, f"first model: no champion yet ({metric}={score:.4f})")
    if champion.get(metric) is None:
        return Decision(True, f"champion has no {metric} on the held-out data; challenger {score:.4f} wins")
    best = float(champion[metric])
    if score > best + margin:
        return Decision(True, f"challenger {metric} {score:.4f} > champion {best:.4f} + margin {margin:g}")
    return Decision(False, f"challenger {metric} {score:.4f} <= champion {best:.4f} + margin {margin:g}")

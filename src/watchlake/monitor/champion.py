"""The champion's side of the monitoring figures, from the model registry (not the warehouse): its version over
time, each promotion's figures from the promoted version's record, and the held-out confidence histogram the
live one is compared with."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from watchlake.monitor.confidence import BINS, HELDOUT_KEY
from watchlake.registry.registry import ModelRegistry, Pointer, Promotion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChampionChange:
    """The champion became ``version`` at ``at`` (ISO UTC; "" when unknown) for ``reason``; ``metrics`` are the
    version's held-out figures (accuracy, macro_f1, weighted_f1), ``replaced`` those of the champion it beat on
    the same windows (empty for the first)."""

    version: int
    at: str
    reason: str
    metrics: dict[str, float]
    replaced: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChampionFigures:
    version: int | None  # None: no champion yet
    changes: list[ChampionChange]  # oldest first
    heldout_confidence: list[int] | None  # the champion's histogram; None when its record has none


def changes_of(pointer: Pointer, meta_of: Any) -> list[ChampionChange]:
    """Every change of champion, oldest first. A pointer written before the promotion log existed yields its
    champions in order, each dated by its version's ``created_at`` (training promotes right after registering)."""
    promotions = list(pointer.promotions) or [
        Promotion(version, "", "") for version in (*pointer.history, pointer.version)
    ]
    changes = []
    for promotion in promotions:
        meta = meta_of(promotion.version)
        decided = meta.get("promotion") or {}
        replaced = decided.get("champion") or {}
        changes.append(
            ChampionChange(
                version=promotion.version,
                at=promotion.at or str(meta.get("created_at", "")),
                reason=promotion.reason or str(decided.get("reason", "")),
                metrics={k: float(v) for k, v in (meta.get("metrics") or {}).items()},
                replaced={k: float(v) for k, v in replaced.items() if k != "version"},
            )
        )
    return changes


def heldout_counts(meta: dict[str, Any]) -> list[int] | None:
    """The held-out confidence histogram of a version's record, when it has one with this binning."""
    stored = meta.get(HELDOUT_KEY) or {}
    counts = stored.get("counts")
    if stored.get("bins") != BINS or not isinstance(counts, list) or len(counts) != BINS:
        return None
    return [int(count) for count in counts]


class ChampionReader:
    """Reads the champion figures of one registry; a version's record is read once (records are immutable)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._metas: dict[int, dict[str, Any]] = {}

    def meta(self, version: int) -> dict[str, Any]:
        if version not in self._metas:
            self._metas[version] = self.registry.meta(version)
        return self._metas[version]

    def read(self) -> ChampionFigures:
        pointer = self.registry.champion()
        if pointer is None:
            return ChampionFigures(None, [], None)
        return ChampionFigures(
            pointer.version, changes_of(pointer, self.meta), heldout_counts(self.meta(pointer.version))
        )

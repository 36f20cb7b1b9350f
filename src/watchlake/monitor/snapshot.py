"""One reading of every monitoring figure: the warehouse's (:mod:`watchlake.monitor.figures`) and the registry's
(:mod:`watchlake.monitor.champion`), with the drift of recent confidences from the champion's held-out ones. A
source that cannot be read is reported as a sentence, not raised: the page and ``watchlake status`` still show the
rest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from watchlake.monitor.champion import ChampionFigures, ChampionReader
from watchlake.monitor.confidence import total_variation
from watchlake.monitor.figures import Figures, read_figures
from watchlake.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    as_of: datetime
    figures: Figures | None
    warehouse_problem: str | None
    champion: ChampionFigures | None
    registry_problem: str | None

    @property
    def drift(self) -> float | None:
        """Total variation distance of the recent confidence histogram from the champion's held-out one."""
        if self.figures is None or self.champion is None or self.champion.heldout_confidence is None:
            return None
        return total_variation(self.figures.confidence, self.champion.heldout_confidence)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["drift"] = self.drift
        return data


def _problem(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def take_snapshot(
    settings: Settings, connect: Callable[[], Any], champion: ChampionReader | None, as_of: datetime
) -> Snapshot:
    """The figures at ``as_of`` (naive UTC); ``connect`` opens a warehouse connection (closed here)."""
    figures, warehouse_problem = None, None
    try:
        connection = connect()
        try:
            figures = read_figures(connection, settings.warehouse.schema_name, settings.monitor, as_of)
        finally:
            connection.close()
    except Exception as error:  # an unreachable or empty warehouse is a figure of its own
        warehouse_problem = _problem(error)
        log.warning("monitor: warehouse figures not read: %s", warehouse_problem)
    champion_figures, registry_problem = None, None
    if champion is not None:
        try:
            champion_figures = champion.read()
        except Exception as error:
            registry_problem = _problem(error)
            log.warning("monitor: registry figures not read: %s", registry_problem)
    return Snapshot(as_of, figures, warehouse_problem, champion_figures, registry_problem)

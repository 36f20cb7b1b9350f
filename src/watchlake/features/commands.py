"""``watchlake features``: the labelled feature windows that training reads."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "Read <lake>/processed/readings, spread the CASAS labels over their span (settings.labels) and map them "
    "to classes (conf/labels.yaml), cut each participant's readings into event-time windows "
    "(features.window_seconds long, one every features.step_seconds) and compute every window's features, "
    "the same ones the streaming predictor computes. Windows holding fewer readings than "
    "features.min_readings_share of the expected window_seconds * 10 are partial and left out. Written to <lake>/features/windows (Parquet, replaced "
    "on every run, with the feature version in every row) and registered as <database>.windows. "
    "`watchlake train` reads these windows."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``watchlake features`` takes no options of its own."""


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {}


def summary(result: Any) -> str:
    table = f" (table {result.table})" if result.table else ""
    return (
        f"{result.windows} windows of {result.participants} participants ({result.labelled} labelled; "
        f"{result.partial} partial windows of fewer than {result.min_readings} readings left out), "
        f"feature version {result.feature_version}, at {result.path}{table}"
    )

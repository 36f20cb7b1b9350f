"""The sample stage: CASAS-format group zips from the settings (``watchlake sample``, and the demo's source)."""

from __future__ import annotations

from pathlib import Path

from watchlake.casas.sample import SampleResult, generate_sample, sample_dir
from watchlake.errors import ConfigError
from watchlake.settings import Settings


def run(
    settings: Settings,
    *,
    participants: int | None = None,
    hours: float | None = None,
    groups: int | None = None,
    seed: int | None = None,
    out: Path | None = None,
) -> SampleResult:
    """Write the sample; each option left as None takes its ``settings.sample`` value (``out``: the sample
    folder of :func:`sample_dir`). ConfigError for sizes below one participant, group or a positive span."""
    defaults = settings.sample
    participants = defaults.participants if participants is None else participants
    hours = defaults.hours if hours is None else hours
    groups = defaults.groups if groups is None else groups
    if participants < 1 or hours <= 0 or groups < 1:
        raise ConfigError("sample: --participants and --groups must be >= 1 and --hours > 0")
    seed = defaults.seed if seed is None else seed
    return generate_sample(out or sample_dir(settings), participants, hours, groups, seed)

"""``watchlake fidelity``: compare generated watches with the statistics they were generated from (a report, not
a pipeline stage)."""

from __future__ import annotations

import argparse
from typing import Any

from watchlake.commandline import add_command, settings_of
from watchlake.synth.commands import add_stats_from, fidelity_summary

DESCRIPTION = (
    "Generate --rows rows in memory and compare them, per class and column, with the source statistics: "
    "relative error of mean and sd, KS statistic against a sample of the processed readings (when "
    "present), shares of location_type, battery_state and the classes. Writes fidelity.json, errors.png, "
    "motion_histograms.png and shares.png to <lake>/reports/fidelity."
)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "fidelity",
        _fidelity,
        help="compare generated watches with the source statistics: JSON + PNG under <lake>/reports/fidelity",
        description=DESCRIPTION,
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows to generate (default 200000)")
    add_stats_from(parser)


def _fidelity(args: argparse.Namespace) -> int:
    from watchlake.spark import build_session
    from watchlake.stats.store import load_stats
    from watchlake.synth.report import run_fidelity

    settings = settings_of(args)
    spark = build_session(settings, "watchlake-fidelity")
    result = run_fidelity(spark, settings, load_stats(spark, settings, args.stats_from), args.rows)
    print(f"fidelity: {fidelity_summary(result)}")
    return 0

"""``watchlake sample``: write CASAS-format group zips with planted defects (a test set or a benchmark set)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from watchlake.cli import add_command, settings_of


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "sample",
        _sample,
        help="write CASAS-format sample archives (group zips of sw1.pN.csv) with planted defects",
        description=(
            "Write group1.zip ... of sw1.pN.csv files in the exact CASAS smartwatch format (two header rows, "
            "CRLF, repr floats, 6-digit stamps on a 10 Hz grid, gaps, a backward jump, repeated rows, charging "
            "stretches, single-row raw labels) with activity-dependent motion, plus planted.json recording the "
            "rows written, the rows cleaning must reject per reason and the ground-truth activities. Size is "
            "participants x hours: about 11 MB of CSV per participant-hour. Defaults come from settings.sample."
        ),
    )
    parser.add_argument("--participants", type=int, default=None, help="number of participant files")
    parser.add_argument("--hours", type=float, default=None, help="hours of 10 Hz rows per participant")
    parser.add_argument("--groups", type=int, default=None, help="number of group zips to spread them over")
    parser.add_argument("--seed", type=int, default=None, help="random seed (same seed, same bytes)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: settings.sample.out_dir or <runtime_dir>/sample)",
    )


def _sample(args: argparse.Namespace) -> int:
    from watchlake.casas.sample import generate_sample, sample_dir
    from watchlake.errors import ConfigError

    settings = settings_of(args)
    defaults = settings.sample
    participants = defaults.participants if args.participants is None else args.participants
    hours = defaults.hours if args.hours is None else args.hours
    groups = defaults.groups if args.groups is None else args.groups
    if participants < 1 or hours <= 0 or groups < 1:
        raise ConfigError("sample: --participants and --groups must be >= 1 and --hours > 0")
    seed = defaults.seed if args.seed is None else args.seed
    result = generate_sample(args.out or sample_dir(settings), participants, hours, groups, seed)
    print(
        f"wrote {result.files} files, {result.data_rows} rows, {result.csv_bytes / 1e6:.1f} MB of CSV in "
        f"{len(result.zips)} zips to {result.out_dir} ({result.mb_per_second:.1f} MB/s); planted: {result.planted}"
    )
    return 0

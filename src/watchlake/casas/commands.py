"""``watchlake sample``: write CASAS-format group zips with planted defects (a test set or a benchmark set)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DESCRIPTION = (
    "Write group1.zip ... of sw1.pN.csv files in the exact CASAS smartwatch format (two header rows, "
    "CRLF, repr floats, 6-digit stamps on a 10 Hz grid, gaps, a backward jump, repeated rows, charging "
    "stretches ending full, a worn stretch with battery state unknown, single-row raw labels) with activity-dependent motion, plus planted.json recording the "
    "rows written, the rows cleaning must reject per reason and the ground-truth activities. Size is "
    "participants x hours: about 11 MB of CSV per participant-hour. Defaults come from settings.sample."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "participants": args.participants,
        "hours": args.hours,
        "groups": args.groups,
        "seed": args.seed,
        "out": args.out,
    }


def summary(result: Any) -> str:
    return (
        f"wrote {result.files} files, {result.data_rows} rows, {result.csv_bytes / 1e6:.1f} MB of CSV in "
        f"{len(result.zips)} zips to {result.out_dir} ({result.mb_per_second:.1f} MB/s); planted: {result.planted}"
    )

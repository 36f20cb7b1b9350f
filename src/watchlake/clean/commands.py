"""``watchlake clean``: the Spark job that turns staged CASAS CSVs into processed readings and rejected lines."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "Read every staged sw1.pN.csv (<lake>/staging, any depth), check its two header rows (a wrong one "
    "stops the run with the file and row named), parse each line (quoted labels with commas, 1-6 digit "
    "stamp fractions, repr floats) and write the kept rows as Parquet partitioned by participant and "
    "date to <lake>/processed/readings, and the rejected lines whole with a reason (wrong_field_count, "
    "unparseable_stamp, missing_motion, unparseable_number, invalid_battery_state, charging, full; the first "
    "that applies) to <lake>/rejected/readings; rows whose battery_state is unknown (monitoring off) or empty "
    "are kept as wear time. Checks rows in = kept + rejected, replaces both outputs "
    "on every run, and registers them as the catalog tables <database>.readings and "
    "<database>.readings_rejected (Hive locally, Glue on EMR; none if catalog.kind is none). Repeated "
    "identical rows are kept: CASAS writes them on purpose."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``watchlake clean`` takes no options of its own."""


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {}


def summary(result: Any) -> str:
    reasons = ", ".join(f"{reason} {count}" for reason, count in result.rejected_by_reason.items())
    line = (
        f"{result.files} files ({result.bytes_in / 1e6:.1f} MB) in {result.seconds:.1f} s: "
        f"{result.rows_in} rows in, {result.rows_kept} kept, {result.rows_rejected} rejected ({reasons})"
    )
    if result.empty_files:
        line += f"; skipped {len(result.empty_files)} empty files: {', '.join(result.empty_files)}"
    return line

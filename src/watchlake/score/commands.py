"""``watchlake score``: batch inference with the champion (or a named version) into the lake's predictions."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "Score windows with the champion model (or --version N): by default the cleaned readings of the lake "
    "(<lake>/processed/readings); with --source PATH, a staging folder of sw1.pN.csv files, cleaned with "
    "the clean stage's rules into <lake>/predictions/_scratch (not into the processed layer). Readings are "
    "cut into the windows training uses (settings.features); a window holding fewer readings than "
    "features.min_readings_share of window_seconds * 10 is scored but marked partial. Predictions "
    "(probabilities, confidence, margin, entropy, model version, run id) go to "
    "<lake>/predictions/windows (Parquet by participant: the participants scored are replaced) and the "
    "catalog table <database>.predictions; with --warehouse they are also MERGEd into the warehouse's "
    "predictions table on (device_id, window_start), as the stream writes it. Where windows carry "
    "labels, the evaluation training writes (metrics.json, confusion_matrix.png) of the whole labelled "
    "windows goes to <lake>/reports/score/<run id>/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default=None,
        metavar="PATH",
        help="a folder of CASAS sw1.pN.csv files (any depth) to score instead of the lake's readings",
    )
    parser.add_argument(
        "--version",
        type=int,
        default=None,
        metavar="N",
        help="the registered model version (default: champion)",
    )
    parser.add_argument(
        "--warehouse",
        action="store_true",
        help="also MERGE the predictions into the warehouse's predictions table",
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {"source": args.source, "version": args.version, "warehouse": args.warehouse}


def summary(result: Any) -> str:
    line = (
        f"{result.windows} windows of {result.source} scored by model v{result.model_version} "
        f"({result.partial} partial) into {result.path}"
    )
    if result.table:
        line += f" (table {result.table})"
    if result.metrics:
        line += (
            f"; accuracy {result.metrics['accuracy']:.4f}, macro-F1 {result.metrics['macro_f1']:.4f} on "
            f"{result.evaluated} labelled whole windows; report {result.report}"
        )
    if result.warehouse_rows is not None:
        line += f"; {result.warehouse_rows} rows merged into the warehouse"
    return f"{line}; run {result.run_id}"

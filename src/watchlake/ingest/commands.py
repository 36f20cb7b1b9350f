"""``watchlake ingest``: the bulk load of CASAS archives into the lake's staging area (what ``init.sh`` runs)."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "Get the CASAS smartwatch archives, check the two header rows of every sw1.pN.csv in them, and copy "
    "the files to <lake>/staging/<group>/sw1.pN.csv (a local folder, or s3://<bucket>/staging/ in AWS "
    "mode, multipart). Files whose size and SHA-256 already match are skipped, so a second run copies "
    "nothing. Downloads resume from a .part file with HTTP Range requests and are retried with backoff. "
    "A JSON Lines manifest (path, size_bytes, sha256, status) is written under <lake>/manifests/. A file "
    "whose header rows are wrong is set aside (status quarantined, with its reason, also listed in "
    "<lake>/manifests/quarantine.jsonl): the other files are staged and the run then exits non-zero naming "
    "it; --strict stops before staging anything instead."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default="casas",
        help=(
            "casas: download settings.ingest.archive_urls (default); sample: run the sample generator with "
            "settings.sample (offline); or a local folder or zip holding sw1.pN.csv files at any depth"
        ),
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="all or nothing: one file with wrong header rows stops the load before anything is staged",
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {"source": args.source, "strict": args.strict}


def summary(result: Any) -> str:
    return (
        f"staged {result.files} files: {result.copied} copied ({result.bytes_copied / 1e6:.1f} MB), "
        f"{result.skipped} unchanged; manifest {result.manifest}"
    )

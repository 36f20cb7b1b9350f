"""Tiny CASAS-format lines and files for the clean tests, written out by hand so every byte is visible."""

from __future__ import annotations

from pathlib import Path

from watchlake.schemas import CASAS_FIELDS, CASAS_TYPES

HEADER_ROWS = (",".join(CASAS_FIELDS), ",".join(CASAS_TYPES))
MOTION = "0.5,-0.25,1e-05,0.1,0.2,0.3,-0.0125,0.98,0.0"


def line(
    stamp: str = "2019-06-01 10:00:00.100000",
    motion: str = MOTION,
    location: str = "house,0.001,-0.002,3.5,90.0,1.25,5.0,3.0",
    battery: str = "unplugged",
    label: str = "",
) -> str:
    """One data line: stamp, nine motion values, location type + seven location values, battery, label."""
    return ",".join((stamp, motion, location, battery, label))


def write_casas(
    path: Path, lines: list[str], newline: str = "\r\n", header: tuple[str, ...] = HEADER_ROWS
) -> Path:
    """Write a CASAS file: the header rows then ``lines``, each ended by ``newline``; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(row + newline for row in (*header, *lines)).encode("utf-8"))
    return path

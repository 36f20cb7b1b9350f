"""The CASAS-format sample generator behind ``watchlake sample``: group zips of ``sw1.pN.csv`` plus ``planted.json``.

Participants are split over ``group1.zip`` ... like the real archives; odd groups hold their CSVs at the zip's
top level, even groups inside a nested folder, since the real layout inside the zips is unknown.
``planted.json`` records, per staging path (``<group>/sw1.pN.csv``) and in total, the data rows written, the rows
cleaning must reject per reason, the rows it must keep, and the ground-truth activity segments and labels.
"""

from __future__ import annotations

import json
import logging
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from watchlake.casas.format import file_name
from watchlake.casas.plan import ground_truth, plan_file, planted_counts
from watchlake.casas.render import write_file
from watchlake.schemas import REJECT_REASONS
from watchlake.settings import Settings

log = logging.getLogger(__name__)

PLANTED_FILE = "planted.json"
ZIP_LEVEL = 1  # fast deflate: generation speed matters more than archive size


@dataclass(frozen=True)
class SampleResult:
    """What one generator run wrote."""

    out_dir: Path
    zips: list[Path]
    planted: Path
    files: int
    data_rows: int
    csv_bytes: int
    seconds: float

    @property
    def mb_per_second(self) -> float:
        return self.csv_bytes / 1e6 / max(self.seconds, 1e-9)


def sample_dir(settings: Settings) -> Path:
    """Where ``watchlake sample`` writes by default: ``settings.sample.out_dir`` or ``<runtime_dir>/sample``."""
    return Path(settings.sample.out_dir or Path(settings.runtime_dir) / "sample")


def member_path(group_index: int, group: str, participant_number: int) -> str:
    """The CSV's path inside its zip: flat in odd groups, nested in a folder in even groups."""
    name = file_name(f"p{participant_number}")
    return name if group_index % 2 == 1 else f"{group}/smartwatch/{name}"


def generate_sample(out_dir: Path, participants: int, hours: float, groups: int, seed: int) -> SampleResult:
    """Write ``groups`` zips holding ``participants`` files of ``hours`` hours each, and ``planted.json``.

    Deterministic in ``seed``. Existing zips of the same names are replaced. Participant 1's file ends in a
    truncated line (counted as wrong_field_count).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    planted: dict[str, Any] = {
        "seed": seed,
        "participants": participants,
        "hours": hours,
        "groups": groups,
        "files": {},
    }
    zips: list[Path] = []
    total_bytes = 0
    numbers = np.arange(1, participants + 1)
    for group_index, members in enumerate(np.array_split(numbers, min(groups, participants)), start=1):
        group = f"group{group_index}"
        target = out_dir / f"{group}.zip"
        partial = target.with_name(target.name + ".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
            for number in members.tolist():
                total_bytes += _write_member(
                    archive, planted, seed, hours, group_index, group, number, started
                )
        partial.replace(target)
        zips.append(target)
    planted["totals"] = _totals(planted["files"].values())
    planted_path = out_dir / PLANTED_FILE
    planted_path.write_text(json.dumps(planted, indent=1), encoding="utf-8")
    seconds = time.perf_counter() - started
    result = SampleResult(
        out_dir, zips, planted_path, participants, planted["totals"]["data_rows"], total_bytes, seconds
    )
    cpu = time.process_time() - cpu_started
    log.info(
        "sample: %d files, %d rows, %.1f MB of CSV in %d zips under %s in %.1f s (%.1f MB/s; %.1f MB per CPU s)",
        result.files, result.data_rows, total_bytes / 1e6, len(zips), out_dir, seconds, result.mb_per_second,
        total_bytes / 1e6 / max(cpu, 1e-9),
    )  # fmt: skip
    return result


def _write_member(
    archive: zipfile.ZipFile,
    planted: dict[str, Any],
    seed: int,
    hours: float,
    group_index: int,
    group: str,
    number: int,
    started: float,
) -> int:
    plan = plan_file(seed, number, hours, truncate=number == 1)
    member = member_path(group_index, group, number)
    with archive.open(member, "w", force_zip64=True) as stream:
        written = write_file(plan, stream)
    entry = {"zip": f"{group}.zip", "member": member, "csv_bytes": written, **planted_counts(plan)}
    planted["files"][f"{group}/{plan.member}"] = {**entry, **ground_truth(plan)}
    elapsed = time.perf_counter() - started
    log.info(
        "sample: [%d/%d] %s.zip:%s %d rows, %.1f MB (%.0f s elapsed)",
        number, planted["participants"], group, member, entry["data_rows"], written / 1e6, elapsed,
    )  # fmt: skip
    return written


def _totals(files: Any) -> dict[str, Any]:
    rejected = dict.fromkeys(REJECT_REASONS, 0)
    data_rows = kept = 0
    for entry in files:
        data_rows += entry["data_rows"]
        kept += entry["kept_rows"]
        for reason, count in entry["rejected"].items():
            rejected[reason] += count
    return {"data_rows": data_rows, "rejected": rejected, "kept_rows": kept}


def load_planted(out_dir: Path) -> dict[str, Any]:
    """The ``planted.json`` a generator run wrote into ``out_dir``."""
    return json.loads((out_dir / PLANTED_FILE).read_text(encoding="utf-8"))


def read_members(out_dir: Path) -> dict[str, bytes]:
    """Staging key (``<group>/sw1.pN.csv``) -> the bytes of that CSV in the zips a generator run wrote."""
    members = {}
    for key, entry in load_planted(out_dir)["files"].items():
        with zipfile.ZipFile(out_dir / entry["zip"]) as archive:
            members[key] = archive.read(entry["member"])
    return members

"""Bulk load into a local lake: from a folder of zips, one zip, loose CSVs and the sample generator."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from watchlake import cli
from watchlake.casas.format import HEADER
from watchlake.casas.sample import generate_sample, load_planted, read_members
from watchlake.errors import FormatError, IngestError
from watchlake.ingest.job import run
from watchlake.lake import Lake
from watchlake.settings import Settings


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ingest-sample")
    generate_sample(out, participants=3, hours=0.02, groups=2, seed=5)
    return out


def _staged(settings: Settings) -> dict[str, bytes]:
    staging = Path(Lake.from_settings(settings).staging)
    return {
        str(path.relative_to(staging)): path.read_bytes()
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }


def test_run_stages_folder_of_zips_and_second_run_copies_nothing(settings: Settings, sample: Path) -> None:
    first = run(settings, str(sample))
    second = run(settings, str(sample))

    expected = read_members(sample)
    assert _staged(settings) == expected
    assert (first.files, first.copied, first.skipped) == (3, 3, 0)
    assert (second.files, second.copied, second.skipped, second.bytes_copied) == (3, 0, 3, 0)
    manifest = [json.loads(line) for line in Path(first.manifest).read_text().splitlines()]
    assert [(entry["key"], entry["size_bytes"], entry["sha256"]) for entry in manifest] == [
        (key, len(data), hashlib.sha256(data).hexdigest()) for key, data in sorted(expected.items())
    ]


def test_run_stages_single_zip(settings: Settings, sample: Path) -> None:
    result = run(settings, str(sample / "group2.zip"))
    assert result.copied == 1
    assert list(_staged(settings)) == ["group2/sw1.p3.csv"]


def test_run_recopies_only_changed_file(settings: Settings, sample: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    for key, data in read_members(sample).items():
        (loose / key).parent.mkdir(parents=True, exist_ok=True)
        (loose / key).write_bytes(data)
    run(settings, str(loose))
    changed = loose / "group1" / "sw1.p2.csv"
    changed.write_bytes(
        changed.read_bytes() + b"2019-06-03 10:00:00.100000" + b",0.0" * 9 + b"," * 10 + b"\r\n"
    )

    result = run(settings, str(loose))

    assert [(item.key, item.copied) for item in result.staged] == [
        ("group1/sw1.p1.csv", False),
        ("group1/sw1.p2.csv", True),
        ("group2/sw1.p3.csv", False),
    ]
    assert _staged(settings)["group1/sw1.p2.csv"] == changed.read_bytes()


def _with_bad_file(sample: Path, tmp_path: Path) -> Path:
    source = tmp_path / "src"
    shutil.copytree(sample, source)
    bad = source / "extra" / "sw1.p9.csv"
    bad.parent.mkdir()
    bad.write_bytes(HEADER.replace(",f,s,", ",f,x,", 1).encode())
    return source


BAD_TYPES = r"extra/sw1\.p9\.csv: row 2 \(field types\) has unknown type codes \['x'\]"


def test_run_strict_bad_header_stages_nothing(settings: Settings, sample: Path, tmp_path: Path) -> None:
    source = _with_bad_file(sample, tmp_path)

    with pytest.raises(FormatError, match=r"nothing staged \(--strict\): .*" + BAD_TYPES):
        run(settings, str(source), strict=True)
    assert not Path(Lake.from_settings(settings).staging).exists()


def test_run_sets_a_bad_header_file_aside_and_stages_the_rest(
    settings: Settings, sample: Path, tmp_path: Path
) -> None:
    source = _with_bad_file(sample, tmp_path)
    lake = Lake.from_settings(settings)

    with pytest.raises(
        FormatError, match=r"1 of 4 file\(s\) set aside .* the other 3 staged: .*" + BAD_TYPES
    ):
        run(settings, str(source))
    assert sorted(_staged(settings)) == ["group1/sw1.p1.csv", "group1/sw1.p2.csv", "group2/sw1.p3.csv"]
    manifest = [json.loads(line) for line in Path(lake.staging_manifest).read_text().splitlines()]
    assert [(entry["key"], entry["status"]) for entry in manifest] == [
        ("extra/sw1.p9.csv", "quarantined"),
        ("group1/sw1.p1.csv", "staged"),
        ("group1/sw1.p2.csv", "staged"),
        ("group2/sw1.p3.csv", "staged"),
    ]
    quarantine = [json.loads(line) for line in Path(lake.quarantine).read_text().splitlines()]
    assert [(entry["key"], entry["source"]) for entry in quarantine] == [
        ("extra/sw1.p9.csv", str(source / "extra" / "sw1.p9.csv"))
    ]
    assert "unknown type codes ['x']" in quarantine[0]["reason"]

    (source / "extra" / "sw1.p9.csv").write_bytes(HEADER.encode())  # fixed: the next load stages it
    assert run(settings, str(source)).copied == 1
    assert Path(lake.quarantine).read_text() == ""


def test_cli_ingest_exits_non_zero_naming_the_set_aside_file(
    settings: Settings, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    source = _with_bad_file(sample, tmp_path)
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", settings.lake.root)
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", settings.runtime_dir)

    assert cli.main(["ingest", "--source", str(source)]) != 0
    assert "extra/sw1.p9.csv" in capsys.readouterr().err
    assert len(_staged(settings)) == 3


def test_run_unknown_source_is_clear_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file or folder"):
        run(settings, str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match=r"no sw1\.p\*\.csv files found"):
        run(settings, str(tmp_path / "empty"))


def test_cli_ingest_sample_matches_planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WATCHLAKE_SAMPLE__PARTICIPANTS", "2")
    monkeypatch.setenv("WATCHLAKE_SAMPLE__HOURS", "0.02")

    assert cli.main(["ingest", "--source", "sample"]) == 0

    planted = load_planted(tmp_path / "runtime" / "sample")
    staged = sorted(
        str(path.relative_to(tmp_path / "lake" / "staging"))
        for path in (tmp_path / "lake" / "staging").rglob("*.csv")
    )
    assert staged == sorted(planted["files"]) == ["group1/sw1.p1.csv", "group2/sw1.p2.csv"]


def test_cli_sample_writes_to_out(tmp_path: Path) -> None:
    code = cli.main(
        ["sample", "--participants", "1", "--hours", "0.01", "--groups", "1", "--out", str(tmp_path / "s")]
    )
    assert code == 0
    assert sorted(path.name for path in (tmp_path / "s").iterdir()) == ["group1.zip", "planted.json"]


def test_run_recopies_same_size_file_with_other_bytes(settings: Settings, sample: Path) -> None:
    run(settings, str(sample / "group2.zip"))
    staged = Path(Lake.from_settings(settings).staging) / "group2" / "sw1.p3.csv"
    original = staged.read_bytes()
    staged.write_bytes(original[:-3] + b"XYZ")

    result = run(settings, str(sample / "group2.zip"))

    assert (result.copied, staged.read_bytes()) == (1, original)
    assert result.staged[0].sha256 == hashlib.sha256(original).hexdigest()

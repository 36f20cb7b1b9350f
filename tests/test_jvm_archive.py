"""The class-data-sharing archive: which driver options the factory gives, and a real build mapped by a fresh JVM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake import jvm_archive, jvm_archive_builder
from watchlake.spark import session_conf


def _driver_options(settings) -> list[str]:
    return session_conf(settings, jars=[])["spark.driver.extraJavaOptions"].split()


def _archive_flags(options: list[str]) -> list[str]:
    return [option for option in options if "Archive" in option]


def _settings(tmp_path: Path, **overrides) -> object:
    """Settings whose class archive lives under ``tmp_path`` (never the machine's own archive)."""
    return make_settings(tmp_path, jvm={"archive_dir": str(tmp_path / "cds")}, **overrides)


def test_no_archive_option_until_the_archive_exists(tmp_path: Path) -> None:
    settings = _settings(tmp_path, catalog={"kind": "none"})
    assert _archive_flags(_driver_options(settings)) == []
    path = jvm_archive.archive_path(settings, session_conf(settings, jars=[]))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stand-in")  # only its presence matters to the options
    assert _archive_flags(_driver_options(settings)) == [f"-XX:SharedArchiveFile={path}"]
    assert "-Xlog:cds=off" in _driver_options(settings)


def test_one_archive_serves_every_local_catalog_and_runtime_folder(tmp_path: Path) -> None:
    sessions = [
        _settings(tmp_path, catalog={"kind": "none"}),
        _settings(tmp_path, catalog={"kind": "hive", "metastore": "postgres"}),
        _settings(tmp_path, catalog={"kind": "hive", "metastore": "derby"}),
        _settings(tmp_path, catalog={"kind": "none"}, runtime_dir=str(tmp_path / "elsewhere")),
    ]
    paths = {jvm_archive.archive_path(s, session_conf(s, jars=[])) for s in sessions}
    assert paths == {jvm_archive.archive_path(sessions[0], session_conf(sessions[0], jars=[]))}
    assert next(iter(paths)).parent == tmp_path / "cds"
    # A class path of the user's own is another archive.
    own = _settings(tmp_path, spark={"conf": {"spark.driver.extraClassPath": "/opt/extra/*"}})
    assert jvm_archive.archive_path(own, session_conf(own, jars=[])) not in paths


@pytest.mark.parametrize(
    "spark", [{"class_data_sharing": False}, {"master": "yarn", "on_emr": True}], ids=["off", "not-local"]
)
def test_no_archive_when_off_or_the_driver_is_not_started_here(tmp_path: Path, spark: dict) -> None:
    settings = _settings(tmp_path, catalog={"kind": "none"})
    settings = _settings(tmp_path, catalog={"kind": "none"}, spark={**settings.spark.model_dump(), **spark})
    path = jvm_archive.archive_path(settings, session_conf(settings, jars=[]))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stand-in")
    assert _archive_flags(_driver_options(settings)) == []
    assert jvm_archive_builder.build(settings) is None


@pytest.mark.slow
def test_a_built_archive_is_mapped_by_the_next_session(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "WATCHLAKE_LAKE__ROOT": str(tmp_path / "lake"),
        "WATCHLAKE_SPARK__MASTER": "local[1]",
        "WATCHLAKE_SPARK__UI_ENABLED": "false",
        "WATCHLAKE_CATALOG__KIND": "none",
        "WATCHLAKE_JVM__ARCHIVE_DIR": str(tmp_path / "cds"),
    }
    built = subprocess.run(
        [sys.executable, "-m", "watchlake.jvm_archive_builder"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    archives = list((tmp_path / "cds").iterdir())
    assert [path.suffix for path in archives] == [".jsa"]  # no partial file left beside it
    assert archives[0].stat().st_size > 10_000_000
    # A fresh process maps it: the JVM reports it in its arguments, and the session works.
    script = (
        "import json; from watchlake.settings import load_settings; from watchlake.spark import build_session\n"
        "spark = build_session(load_settings(), 'archive-check')\n"
        "args = list(spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())\n"
        "print(json.dumps({'args': args, 'rows': spark.range(5).count()}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    checked = json.loads(run.stdout.strip().splitlines()[-1])
    assert checked["rows"] == 5
    assert f"-XX:SharedArchiveFile={archives[0]}" in checked["args"]
    assert "][cds" not in run.stdout + run.stderr  # the archive's own warnings ([warning][cds]) stay quiet
    again = subprocess.run(
        [sys.executable, "-m", "watchlake.jvm_archive_builder"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "up to date" in again.stderr

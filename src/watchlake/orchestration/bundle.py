"""The EMR code bundle as data: which local files go to which key under ``s3://<bucket>/<code_prefix>/``, with
their SHA-256, and the bootstrap script that installs them on every node. Uploaded by ``watchlake aws deploy``.

Layout (keys relative to the code prefix, as :mod:`watchlake.orchestration.emr` expects them)::

    wheel/watchlake-<version>-py3-none-any.whl   the package, pip-installed by the bootstrap action
    jars/<folder>/*.jar                           copied to emr.NODE_JAR_DIR/<folder> (jvm.lib_dir of the steps)
    spark_jobs/<stage>.py                         what a step spark-submits
    bundle.json                                   every key uploaded with its SHA-256 and size (written last)

and the bootstrap script at ``orchestration.emr.bootstrap_script_key`` (a key of the bucket).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from watchlake.errors import ConfigError
from watchlake.ingest.staging import sha256_of
from watchlake.settings import Settings

# The jar folders Spark needs on EMR: watchlake's SQL functions and the Kafka connector (generate, predict). Not
# the Kafka broker (MSK is the broker there), not jdbc (Glue is the metastore), not s3a (EMRFS serves s3://).
EMR_JAR_FOLDERS = ("functions", "spark-kafka")
MANIFEST_NAME = "bundle.json"

# Run by EMR as root-capable hadoop on every node before applications start: $1 the code URI, $2 the jar folder.
BOOTSTRAP_SCRIPT = """\
#!/bin/bash
# watchlake's EMR bootstrap action (written by `watchlake aws deploy`): install the code bundle on this node.
#   $1  s3://<bucket>/<code prefix>   $2  the folder the steps' jvm.lib_dir points at
set -euo pipefail
code="${1%/}"
jars="$2"
work="$(mktemp -d)"
aws s3 cp --recursive --quiet "$code/wheel/" "$work/wheel/"
sudo python3 -m pip install --quiet "$work"/wheel/*.whl
sudo mkdir -p "$jars"
sudo aws s3 cp --recursive --quiet "$code/jars/" "$jars/"
rm -rf "$work"
"""


@dataclass(frozen=True)
class BundleFile:
    """One object of the bundle: its key in the lake's bucket, where its bytes are, their SHA-256 and size."""

    key: str
    path: Path
    sha256: str
    size: int


def _file(key: str, path: Path) -> BundleFile:
    with path.open("rb") as stream:
        return BundleFile(key, path, sha256_of(stream), path.stat().st_size)


def checkout_root() -> Path:
    """The source checkout this package runs from (the bundle is built from it); a ConfigError for an installed
    package without its checkout."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "pyproject.toml").is_file() or not (root / "spark_jobs").is_dir():
        raise ConfigError(
            f"watchlake aws deploy builds the bundle from a source checkout, and {root} is none; run it from the "
            "repository's own .venv (scripts/setup.sh)"
        )
    return root


def build_wheel(root: Path, out_dir: Path) -> Path:
    """Build the package's wheel from a copy of ``root``'s sources (setuptools' build/ stays out of the checkout)
    into ``out_dir``; its path."""
    with tempfile.TemporaryDirectory(prefix="watchlake-wheel-") as scratch:
        source = Path(scratch, "source")
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            if (root / name).is_file():
                shutil.copy2(root / name, source / name)
        shutil.copytree(
            root / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w"]
        result = subprocess.run(
            [*command, str(out_dir), str(source)], capture_output=True, text=True, check=False, timeout=300
        )
    if result.returncode != 0:
        raise ConfigError(f"building the watchlake wheel failed:\n{result.stdout}{result.stderr}")
    wheels = sorted(out_dir.glob("watchlake-*.whl"))
    if not wheels:
        raise ConfigError(f"pip wheel wrote no watchlake wheel into {out_dir}")
    return wheels[-1]


def code_prefix(settings: Settings) -> str:
    return settings.orchestration.emr.code_prefix.strip("/")


def code_files(settings: Settings, root: Path, wheel: Path, out_dir: Path) -> list[BundleFile]:
    """Every file of the bundle (the wheel, the EMR jars, ``spark_jobs/*.py``, the bootstrap script written into
    ``out_dir``), sorted by key; a ConfigError naming scripts/fetch-jars.sh when a jar folder is empty."""
    prefix = code_prefix(settings)
    files = [_file(f"{prefix}/wheel/{wheel.name}", wheel)]
    for folder in EMR_JAR_FOLDERS:
        jars = sorted((settings.jvm.lib_path / folder).glob("*.jar"))
        if not jars:
            raise ConfigError(
                f"jvm.lib_dir: no jars in {settings.jvm.lib_path / folder}; run scripts/fetch-jars.sh first"
            )
        files += [_file(f"{prefix}/jars/{folder}/{jar.name}", jar) for jar in jars]
    files += script_files(settings, root)
    bootstrap = out_dir / "install-watchlake.sh"
    bootstrap.write_text(BOOTSTRAP_SCRIPT, encoding="utf-8")
    files.append(_file(settings.orchestration.emr.bootstrap_script_key.lstrip("/"), bootstrap))
    return sorted(files, key=lambda item: item.key)


def script_files(settings: Settings, root: Path) -> list[BundleFile]:
    """``spark_jobs/*.py``, the steps' entry scripts, under the code prefix."""
    scripts = sorted((root / "spark_jobs").glob("*.py"))
    return [_file(f"{code_prefix(settings)}/spark_jobs/{script.name}", script) for script in scripts]


def manifest_key(settings: Settings) -> str:
    return f"{code_prefix(settings)}/{MANIFEST_NAME}"

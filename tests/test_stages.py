"""The stage table is the one face of every stage: the CLI, spark_jobs/ and the demo all come from it."""

from __future__ import annotations

import argparse
import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from watchlake import demo
from watchlake.cli import build_parser
from watchlake.errors import ConfigError
from watchlake.lake import LAYERS, Lake
from watchlake.stages import STAGES, TOOLS, commands_of, resolve, stage

SPARK_JOBS = REPO / "spark_jobs"


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_cli_subcommand_comes_from_the_stage_table() -> None:
    declared = [entry.name for entry in STAGES] + [name for tool in TOOLS for name in tool.names]
    assert sorted(_subparsers()) == sorted(declared)
    assert len(declared) == len(set(declared))


@pytest.mark.parametrize("entry", STAGES, ids=lambda entry: entry.name)
def test_stage_subcommand_runs_its_table_entry(entry) -> None:
    args = build_parser().parse_args([entry.name])
    assert args.stage == entry.name
    assert args.handler.__name__ == "_run_stage_command"
    module = commands_of(entry)
    assert isinstance(module.options(args), dict)
    assert callable(resolve(entry.run))


def test_every_spark_job_script_is_a_spark_stage_of_the_table() -> None:
    scripts = sorted(path.stem for path in SPARK_JOBS.glob("*.py"))
    assert scripts == sorted(entry.name for entry in STAGES if entry.spark)


@pytest.mark.parametrize("script", sorted(SPARK_JOBS.glob("*.py")), ids=lambda path: path.stem)
def test_spark_job_script_runs_the_stage_of_its_name(script: Path) -> None:
    # The script's only call hands its own stage name to the CLI (the same path as `watchlake <stage>`).
    calls = [node for node in ast.walk(ast.parse(script.read_text())) if isinstance(node, ast.Call)]
    mains = [call for call in calls if getattr(call.func, "id", None) == "main"]
    assert len(mains) == 1
    assert ast.literal_eval(mains[0].args[0].elts[0]) == script.stem
    completed = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"usage: watchlake {script.stem}")


def test_demo_runs_only_stages_of_the_table() -> None:
    chain = (*demo.BATCH_CHAIN, *demo.STREAM_CHAIN, *demo.LOOP_CHAIN)
    names = [name for name, _ in chain]
    assert names == [
        "ingest", "clean", "stats", "features", "train", "generate", "predict", "oracle", "retrain"
    ]  # fmt: skip
    for name, options in chain:
        if name == "oracle":  # the demo's simulated annotator, not a stage
            from watchlake.annotate.oracle import run_oracle

            inspect.signature(run_oracle).bind("settings", **options)
            continue
        entry = stage(name)
        positional = ("settings", "spark") if entry.spark else ("settings",)
        inspect.signature(resolve(entry.run)).bind(*positional, **options)  # TypeError on an unknown option
    assert not [line for line in Path(demo.__file__).read_text().splitlines() if ".job import" in line]


def test_stage_layers_are_lake_datasets_or_services() -> None:
    services = {"kafka", "warehouse", "catalog", "archives", "sample"}
    for entry in STAGES:
        for layer in (*entry.reads, *entry.writes):
            known = layer in services or layer in LAYERS or isinstance(getattr(Lake, layer, None), property)
            assert known, (entry.name, layer)


def test_unknown_stage_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown stage 'clena'; stages: sample, ingest, clean"):
        stage("clena")


def test_python_dash_m_watchlake_is_the_cli() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "watchlake", "--help"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0
    assert all(entry.name in completed.stdout for entry in STAGES)


def test_no_stage_module_imports_the_cli() -> None:
    # Entry points stand on top: the CLI loads the stage modules, never the other way round.
    package = REPO / "src" / "watchlake"
    offenders = []
    for path in package.rglob("*.py"):
        if path.name in ("cli.py", "__main__.py"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(name in ("watchlake.cli",) for name in names if name):
                offenders.append(str(path.relative_to(package)))
    assert offenders == []


def test_the_warehouse_imports_no_service_manager() -> None:
    package = REPO / "src" / "watchlake" / "warehouse"
    imported = {
        node.module
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not [name for name in imported if name.startswith("watchlake.services")]

"""Cheap guards on the command line: every subcommand explains itself, and errors are clean."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from watchlake.cli import build_parser, main


def _subcommands() -> list[str]:
    parser = build_parser()
    actions = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return sorted(actions[0].choices) if actions else []


@pytest.mark.parametrize("command", _subcommands())
def test_cli_subcommand_help_explains_itself(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"watchlake {command}" in out
    # A description beyond the usage line: at least one sentence of explanation.
    assert len(out.splitlines()) > 3


@pytest.mark.parametrize("command", _subcommands())
def test_cli_subcommand_parses_to_its_handler(command: str) -> None:
    args = build_parser().parse_args([command])
    assert callable(args.handler)
    assert args.command == command


def test_cli_top_level_help_lists_stages() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "watchlake.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in _subcommands():
        assert command in completed.stdout


def test_cli_bad_setting_exits_with_clean_message(monkeypatch: pytest.MonkeyPatch) -> None:
    if not _subcommands():
        pytest.fail("no subcommands registered")
    monkeypatch.setenv("WATCHLAKE_SPARK__SHUFFLE_PARTITIONS", "zero")
    completed = subprocess.run(
        [sys.executable, "-m", "watchlake.cli", "status"], capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert "spark.shuffle_partitions" in completed.stderr
    assert "Traceback" not in completed.stderr

"""Progress of long work: a bar on a terminal, log lines in a log file, and the count a copy really read."""

from __future__ import annotations

import io
import logging
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from watchlake.casas.sample import generate_sample
from watchlake.progress import CountingReader, Tracker, track

BAR = "━"  # rich's bar character


def test_a_terminal_gets_a_bar_with_the_bytes_done() -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    with track("download group1.zip", 3_000_000, on=terminal) as progress:
        for _ in range(3):
            progress.add(1_000_000)

    drawn = screen.getvalue()
    assert "download group1.zip" in drawn
    assert "3.0/3.0 MB" in drawn
    assert BAR in drawn


def test_a_log_file_gets_a_line_with_share_size_and_rate(caplog: pytest.LogCaptureFixture) -> None:
    not_a_terminal = Console(file=io.StringIO(), force_terminal=False)
    with (
        caplog.at_level(logging.INFO),
        track("upload", 4_000_000, done=1_000_000, on=not_a_terminal) as tracker,
    ):
        tracker.add(1_000_000)

    assert not not_a_terminal.file.getvalue()  # type: ignore[attr-defined]
    lines = [record.getMessage() for record in caplog.records if record.name == "watchlake.progress"]
    assert len(lines) == 1
    assert lines[0].startswith("upload:  50.0% 2.0/4.0 MB at ")


def test_a_tracker_that_is_not_logged_stays_silent(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO),
        track("demo", 3, unit="stages", logged=False, on=Console(file=io.StringIO())),
    ):
        pass
    assert not [record for record in caplog.records if record.name == "watchlake.progress"]


def test_counting_reader_counts_every_byte_a_copy_reads() -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    tracker = Tracker("copy", len(data), "bytes")
    copy = io.BytesIO()
    shutil.copyfileobj(CountingReader(io.BytesIO(data), tracker), copy, length=1 << 16)
    assert copy.getvalue() == data
    assert tracker.done == len(data)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("progress-sample")
    generate_sample(out, participants=2, hours=0.05, groups=1, seed=3)
    return out


def _ingest(sample: Path, tmp_path: Path, *, terminal: bool) -> tuple[int, str]:
    """``watchlake ingest`` in a fresh process, its stderr on a pseudo-terminal or on a pipe."""
    env = {
        **os.environ,
        "WATCHLAKE_LAKE__ROOT": str(tmp_path / "lake"),
        "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "TERM": "xterm",
        "COLUMNS": "120",
    }
    command = [sys.executable, "-m", "watchlake", "ingest", "--source", str(sample)]
    if not terminal:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen(
        command, env=env, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL
    ) as child:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # the child closed its side
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = child.wait(timeout=120)
    os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_ingest_draws_a_staging_bar_on_a_terminal_and_logs_lines_into_a_pipe(
    sample: Path, tmp_path: Path
) -> None:
    code, screen = _ingest(sample, tmp_path / "tty", terminal=True)
    assert code == 0, screen
    assert BAR in screen
    assert "staging [2/2] group1/sw1.p2.csv" in screen

    code, log_text = _ingest(sample, tmp_path / "pipe", terminal=False)
    assert code == 0, log_text
    assert BAR not in log_text
    final = [line for line in log_text.splitlines() if "watchlake.progress: staging" in line]
    assert final and " 100.0% " in final[-1], log_text

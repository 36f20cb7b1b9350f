"""The download path against a local threaded HTTP server with Range support that can cut transfers midway."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.casas.sample import generate_sample
from watchlake.errors import IngestError
from watchlake.ingest.download import download
from watchlake.ingest.job import run


@dataclass
class ServerState:
    root: Path
    cut_after: int | None = None  # bytes sent before dropping the connection
    cut_times: int = 0  # how many requests per file are cut
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            path = state.root / self.path.lstrip("/")
            state.requests.append((self.path, self.headers.get("Range")))
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if match:
                start = int(match.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            body = data[start:]
            count = state.served.get(self.path, 0)
            state.served[self.path] = count + 1
            if state.cut_after is not None and count < state.cut_times:
                body = body[: state.cut_after]
                self.close_connection = True
            self.wfile.write(body)

    return Handler


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, ServerState]]:
    """A threaded HTTP server on 127.0.0.1 serving tmp_path/'www'; stopped after the test."""
    state = ServerState(tmp_path / "www")
    state.root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_download_resumes_cut_transfer_with_range(
    http_server: tuple[str, ServerState], tmp_path: Path
) -> None:
    url, state = http_server
    payload = bytes(range(256)) * 4000
    (state.root / "group1.zip").write_bytes(payload)
    state.cut_after, state.cut_times = 300_000, 1

    path = download(f"{url}/group1.zip", tmp_path / "dl", retries=3, backoff_seconds=0.01, timeout=5)

    assert path.read_bytes() == payload
    assert state.requests == [("/group1.zip", None), ("/group1.zip", "bytes=300000-")]
    assert not (tmp_path / "dl" / "group1.zip.part").exists()


def test_download_gives_up_after_retries_and_keeps_part(
    http_server: tuple[str, ServerState], tmp_path: Path
) -> None:
    url, state = http_server
    (state.root / "group1.zip").write_bytes(b"x" * 10_000)
    state.cut_after, state.cut_times = 1000, 99

    with pytest.raises(IngestError, match=r"failed after 3 attempts.*run again to resume"):
        download(f"{url}/group1.zip", tmp_path / "dl", retries=2, backoff_seconds=0.01, timeout=5)

    assert (tmp_path / "dl" / "group1.zip.part").stat().st_size == 3000
    assert not (tmp_path / "dl" / "group1.zip").exists()


def test_download_reuses_complete_part_after_416(
    http_server: tuple[str, ServerState], tmp_path: Path
) -> None:
    url, state = http_server
    (state.root / "group1.zip").write_bytes(b"y" * 5000)
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "group1.zip.part").write_bytes(b"y" * 5000)

    path = download(f"{url}/group1.zip", tmp_path / "dl", retries=1, backoff_seconds=0.01, timeout=5)

    assert path.read_bytes() == b"y" * 5000


def test_download_missing_file_fails_at_once(http_server: tuple[str, ServerState], tmp_path: Path) -> None:
    url, state = http_server
    with pytest.raises(IngestError, match="HTTP 404"):
        download(f"{url}/nope.zip", tmp_path / "dl", retries=5, backoff_seconds=10, timeout=5)
    assert len(state.requests) == 1


def test_run_casas_source_downloads_and_stages(http_server: tuple[str, ServerState], tmp_path: Path) -> None:
    url, state = http_server
    generate_sample(state.root, participants=2, hours=0.02, groups=2, seed=9)
    state.cut_after, state.cut_times = 50_000, 1
    settings = make_settings(
        tmp_path,
        ingest={"archive_urls": [f"{url}/group1.zip", f"{url}/group2.zip"], "retry_backoff_seconds": 0.01},
    )

    first = run(settings, "casas")
    second = run(settings, "casas")

    assert [(item.key, item.copied) for item in first.staged] == [
        ("group1/sw1.p1.csv", True),
        ("group2/sw1.p2.csv", True),
    ]
    assert second.copied == 0
    assert state.served == {"/group1.zip": 2, "/group2.zip": 2}  # each cut once, resumed once, then reused
    assert (tmp_path / "runtime" / "downloads" / "group1.zip").read_bytes() == (
        state.root / "group1.zip"
    ).read_bytes()

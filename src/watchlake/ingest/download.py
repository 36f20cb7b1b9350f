"""Resumable HTTP download of the CASAS archives: ``.part`` files continued with Range requests, retries with
exponential backoff, the final size checked against the server's length, progress as a live bar on a terminal, else logged with % and MB/s."""

from __future__ import annotations

import http.client
import logging
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from watchlake.errors import IngestError
from watchlake.progress import track

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)")
_RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


class _Retry(Exception):
    """A transfer ended early or went wrong in a way a new attempt may fix."""


def download(url: str, dest_dir: Path, *, retries: int, backoff_seconds: float, timeout: float) -> Path:
    """Download ``url`` into ``dest_dir`` and return the file; an already complete file is reused.

    Bytes go to ``<name>.part`` first and a new attempt continues it with ``Range``; the file is renamed only when
    its size equals the length the server announced. Network errors and 5xx answers are retried ``retries`` times
    with backoff ``backoff_seconds * 2**attempt``; other HTTP errors fail at once. Raises IngestError.
    """
    name = Path(urlparse(url).path).name
    if not name:
        raise IngestError(f"cannot tell a file name from the URL {url!r}; check settings.ingest.archive_urls")
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / name
    if final.exists():
        log.info("%s: already downloaded (%.1f MB)", final, final.stat().st_size / 1e6)
        return final
    part = dest_dir / f"{name}.part"
    for attempt in range(retries + 1):
        try:
            _attempt(url, part, timeout)
        except (_Retry, OSError, http.client.HTTPException) as error:
            if attempt == retries:
                raise IngestError(
                    f"download of {url} failed after {retries + 1} attempts: {error}; run again to resume "
                    f"from {part} (offline? use --source sample, or --source with a folder or zip)"
                ) from None
            wait = backoff_seconds * 2**attempt
            log.warning("%s: attempt %d failed (%s); retrying in %.1f s", name, attempt + 1, error, wait)
            time.sleep(wait)
            continue
        part.replace(final)
        log.info("%s: complete, %.1f MB", final, final.stat().st_size / 1e6)
        return final
    raise AssertionError("unreachable")


def _attempt(url: str, part: Path, timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and _complete_after_416(error, have):
            return
        if error.code == 416:
            part.unlink(missing_ok=True)
            raise _Retry("server refused the resume range; starting over") from None
        if error.code in _RETRYABLE_HTTP:
            raise _Retry(f"HTTP {error.code}") from None
        raise IngestError(f"download of {url} failed: HTTP {error.code} {error.reason}") from None
    with response:
        total, offset = _expected(response, have)
        if offset != have and offset != 0:
            part.unlink(missing_ok=True)
            raise _Retry(f"server resumed at byte {offset}, not {have}; starting over")
        if offset != have:
            log.warning("%s: server ignored the resume range; downloading from the start", part.name)
            have = 0
        name = part.name.removesuffix(".part")
        with (
            track(f"download {name}", total, done=have) as progress,
            open(part, "ab" if have else "wb") as sink,
        ):
            while chunk := response.read(CHUNK_BYTES):
                sink.write(chunk)
                progress.add(len(chunk))
    size = part.stat().st_size
    if total is not None and size != total:
        raise _Retry(f"got {size} of {total} bytes")
    if total is None:
        log.warning("%s: server sent no length; size %d bytes not verified", part.name, size)


def _expected(response: http.client.HTTPResponse, have: int) -> tuple[int | None, int]:
    """(total size, offset the body starts at) from a 200 or 206 answer."""
    if response.status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if not match or match.group(1) is None:
            raise _Retry("206 answer without a usable Content-Range")
        total = None if match.group(2) == "*" else int(match.group(2))
        return total, int(match.group(1))
    length = response.headers.get("Content-Length")
    return (int(length) if length is not None else None), 0


def _complete_after_416(error: urllib.error.HTTPError, have: int) -> bool:
    """A 416 for ``bytes=<have>-`` with ``Content-Range: bytes */<have>`` means the part is already whole."""
    match = _CONTENT_RANGE.match(error.headers.get("Content-Range", "") if error.headers else "")
    return bool(match and match.group(2) not in (None, "*") and int(match.group(2)) == have and have > 0)

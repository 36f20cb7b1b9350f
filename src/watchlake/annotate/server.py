"""Serving the annotation app with uvicorn: in the foreground (``watchlake annotate``) or in a thread for the
duration of a ``with`` block (the oracle run from Python, tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from watchlake.errors import ServiceError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def loopback_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# In a container (env docker) the service listens on all of the container's addresses: its port is reachable only
# through what Compose publishes, which docker-compose.yml binds to the host's 127.0.0.1.
CONTAINER_ADDRESS = "0.0.0.0"


def check_loopback(host: str, *, in_container: bool = False) -> None:
    """The service has no TLS: it must listen on loopback only (in a container: on the container's addresses)."""
    if host in LOOPBACK or (in_container and host == CONTAINER_ADDRESS):
        return
    raise ServiceError(
        f"annotate.host is {host!r}: the annotation service listens on loopback only (127.0.0.1)"
        + (f" or, in the container, on {CONTAINER_ADDRESS}" if in_container else "")
    )


def serve(app: Any, host: str, port: int, *, in_container: bool = False) -> None:
    """Serve ``app`` until Ctrl-C."""
    import uvicorn

    check_loopback(host, in_container=in_container)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@contextmanager
def serving(
    app: Any, host: str = "127.0.0.1", port: int | None = None, timeout: float = 20.0
) -> Iterator[str]:
    """Serve ``app`` in a thread while the block runs; yields its base URL, stops it afterwards."""
    import uvicorn

    check_loopback(host)
    port = port or loopback_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"annotate-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ServiceError(f"the annotation service did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)

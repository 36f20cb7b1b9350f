"""The simulated annotator (``watchlake annotate --oracle``): it leases windows and labels them with the
generator's ground truth through the same HTTP API a person's client uses, so the active-learning loop runs
unattended. The truth is the ``true_activity`` of the window's messages read back from Kafka in this process: it
never reaches the features, the queue or the model, only the label a person would have given.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchlake.annotate.service import LabelSink
from watchlake.errors import ServiceError
from watchlake.settings import Settings

log = logging.getLogger(__name__)

Truth = Callable[[str, datetime, datetime], str | None]


@dataclass(frozen=True)
class OracleResult:
    labelled: int  # labels accepted
    skipped: int  # windows without ground truth (Kafka no longer holds them), given back
    noisy: int  # labels deliberately set to another class (annotate.oracle_noise)
    refused: int  # submissions the API refused (e.g. a lease that expired meanwhile)
    seconds: float


def summary(result: OracleResult) -> str:
    """The oracle's one line (``watchlake annotate --oracle`` and the demo print it)."""
    return (
        f"{result.labelled} labelled ({result.noisy} with noise), {result.skipped} skipped without ground truth, "
        f"{result.refused} refused, {result.seconds:.1f} s"
    )


def kafka_truth(settings: Settings) -> Truth:
    """The class the generator simulated for most of a window's seconds, read back from Kafka."""
    from watchlake.annotate.readings import read_window

    def truth(device_id: str, start: datetime, end: datetime) -> str | None:
        found = read_window(settings, device_id, start, end)
        return found.true_activity if found else None

    return truth


def oracle_token(settings: Settings) -> str:
    """A new API token of the oracle's account (created, with a password no one knows, when missing)."""
    from watchlake.annotate import accounts
    from watchlake.annotate.app import utc_now
    from watchlake.warehouse.connection import connect
    from watchlake.warehouse.tables import ensure_tables

    connection = connect(settings)
    try:
        schema, name = settings.warehouse.schema_name, settings.annotate.oracle_user
        ensure_tables(connection, schema)
        if not accounts.annotator_exists(connection, schema, name):
            accounts.add_annotator(connection, schema, name, secrets.token_urlsafe(24), utc_now())
        return accounts.create_token(connection, schema, name, utc_now())
    finally:
        connection.close()


@contextmanager
def _service(settings: Settings, url: str | None, sink: LabelSink | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    from watchlake.annotate.app import create_app
    from watchlake.annotate.server import serving

    with serving(create_app(settings, sink=sink)) as started:
        yield started


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.removesuffix("Z"))


def _noisy(true_class: str, classes: list[str], rng: random.Random, noise: float) -> str:
    others = [name for name in classes if name != true_class]
    return rng.choice(others) if others and rng.random() < noise else true_class


def run_oracle(
    settings: Settings,
    limit: int | None = None,
    *,
    url: str | None = None,
    token: str | None = None,
    sink: LabelSink | None = None,
    truth: Truth | None = None,
) -> OracleResult:
    """Label the queue until it is empty for the oracle (or ``limit`` labels). ``url``: a running service; None
    starts one in this process for the run (with ``sink``, default the feature store)."""
    import httpx

    started = time.perf_counter()
    truth = truth or kafka_truth(settings)
    rng = random.Random(settings.annotate.oracle_seed)
    noise = settings.annotate.oracle_noise
    headers = {"Authorization": f"Bearer {token or oracle_token(settings)}"}
    labelled = skipped = noisy = refused = 0
    with (
        _service(settings, url, sink) as base,
        httpx.Client(base_url=base, headers=headers, timeout=60) as client,
    ):
        while limit is None or labelled < limit:
            response = client.post("/api/leases")
            if response.status_code == 204:
                break
            _expect(response, 201)
            lease: dict[str, Any] = response.json()
            window = lease["window"]
            found = truth(window["device_id"], _parse(window["window_start"]), _parse(window["window_end"]))
            if found is None or found not in window["classes"]:
                _expect(client.post(f"/api/leases/{lease['lease_id']}/skip"), 200)
                skipped += 1
                continue
            chosen = _noisy(found, window["classes"], rng, noise)
            body = {
                "label_id": uuid.uuid4().hex,
                "lease_id": lease["lease_id"],
                "label": chosen,
                "note": "oracle",
            }
            answer = client.post("/api/labels", json=body)
            if answer.status_code == 201:
                labelled += 1
                noisy += chosen != found
            else:
                refused += 1
                log.warning("oracle: label refused (%d): %s", answer.status_code, answer.text)
                client.post(f"/api/leases/{lease['lease_id']}/skip")  # so the loop cannot be handed it again
    result = OracleResult(labelled, skipped, noisy, refused, time.perf_counter() - started)
    log.info("oracle: %s", result)
    return result


def _expect(response: Any, status: int) -> None:
    if response.status_code != status:
        raise ServiceError(f"the annotation API answered {response.status_code}: {response.text}")

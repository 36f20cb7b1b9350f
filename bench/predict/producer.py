"""Watch-message producer of the predict bench, run as its own process so it does not share Spark's threads.

Two modes: ``--rate R`` paces ``R / 10`` watches at 10 Hz for ``--seconds`` (event time = the scheduled tick,
close to wall-clock now), ``--burst N`` writes N messages of ``--devices`` watches as fast as it can (event
times ending now). Values are JSON of WATCH_MESSAGE_V1 in the same shape ``watchlake generate`` writes,
assembled from a pool of pre-serialised readings so the producer spends its time producing, not in json.dumps.
Prints one JSON line with what it produced. Uses confluent-kafka (librdkafka) with the generator's producer
settings (acks=all, idempotence, lz4).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Producer

from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS, WATCH_MESSAGE_VERSION

TICK_SECONDS = 0.1
POOL_SIZE = 4096
LOCATIONS = (None, "house", "road", "work", "store")


def reading_pool(seed: int = 7) -> list[bytes]:
    """Serialised message tails (every field after event_time), with varied values."""
    rng = random.Random(seed)
    pool = []
    for _ in range(POOL_SIZE):
        location = rng.choice(LOCATIONS)
        body: dict[str, Any] = {name: round(rng.gauss(0, 1), 6) for name in MOTION_FIELDS}
        body["location_type"] = location
        body |= {name: (round(rng.gauss(5, 2), 6) if location else None) for name in LOCATION_FIELDS}
        body["battery_state"] = rng.choice(("unplugged", "full"))
        body["true_activity"] = "unknown"
        pool.append(json.dumps(body, separators=(",", ":"))[1:].encode())
    return pool


def stamp(epoch: float) -> bytes:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3].encode() + b"Z"


class Messages:
    """Builds message values; device i is ``<prefix><i:05d>``."""

    def __init__(self, prefix: str, devices: int) -> None:
        self.pool = reading_pool()
        self.keys = [f"{prefix}{i:05d}".encode() for i in range(devices)]
        self.heads = [
            b'{"schema_version":%d,"device_id":"%s","seq":' % (WATCH_MESSAGE_VERSION, key)
            for key in self.keys
        ]

    def value(self, device: int, seq: int, when: bytes) -> bytes:
        tail = self.pool[(device * 7919 + seq) % POOL_SIZE]
        return b'%s%d,"event_time":"%s",%s' % (self.heads[device], seq, when, tail)


def producer(bootstrap: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 20,
            "batch.size": 262_144,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
        }
    )


def send(client: Producer, topic: str, key: bytes, value: bytes) -> None:
    while True:
        try:
            client.produce(topic, value=value, key=key)
            return
        except BufferError:  # the local queue is full: let librdkafka deliver some first
            client.poll(0.01)


def paced(client: Producer, topic: str, rate: int, seconds: float, prefix: str) -> dict[str, Any]:
    devices = max(1, round(rate * TICK_SECONDS))
    messages = Messages(prefix, devices)
    started = time.time()
    ticks = int(seconds / TICK_SECONDS)
    worst_lag = 0.0
    for tick in range(ticks):
        due = started + tick * TICK_SECONDS
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        worst_lag = max(worst_lag, -wait)
        when = stamp(due)
        for device in range(devices):
            send(client, topic, messages.keys[device], messages.value(device, tick, when))
        client.poll(0)
    produced_in = time.time() - started
    client.flush(60)
    return {
        "mode": "paced",
        "target_rate": rate,
        "devices": devices,
        "messages": devices * ticks,
        "seconds": round(produced_in, 2),
        "achieved_rate": round(devices * ticks / produced_in),
        "worst_lag_behind_schedule_s": round(worst_lag, 3),
    }


def burst(client: Producer, topic: str, count: int, devices: int, prefix: str) -> dict[str, Any]:
    messages = Messages(prefix, devices)
    ticks = -(-count // devices)
    first = time.time() - ticks * TICK_SECONDS
    started = time.time()
    sent = 0
    for tick in range(ticks):
        when = stamp(first + tick * TICK_SECONDS)
        for device in range(min(devices, count - sent)):
            send(client, topic, messages.keys[device], messages.value(device, tick, when))
        sent += min(devices, count - sent)
        client.poll(0)
    client.flush(120)
    seconds = time.time() - started
    return {"mode": "burst", "messages": sent, "devices": devices, "seconds": round(seconds, 2),
            "achieved_rate": round(sent / seconds)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--prefix", default="watch-")
    parser.add_argument("--rate", type=int, help="paced: messages per second (rate/10 watches at 10 Hz)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--burst", type=int, help="burst: this many messages as fast as possible")
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()
    client = producer(args.bootstrap)
    if args.burst:
        result = burst(client, args.topic, args.burst, args.devices, args.prefix)
    else:
        result = paced(client, args.topic, args.rate, args.seconds, args.prefix)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

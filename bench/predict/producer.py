"""Watch-message producer of the predict bench, run as its own process so it does not share Spark's threads.

Every message is WATCH_MESSAGE_V2 in the shape ``watchlake generate`` writes: one watch's second, 10 readings at
10 Hz (``READINGS_PER_MESSAGE`` events). Two modes: ``--rate R`` paces ``R / 10`` watches for ``--seconds`` (R
events/s, R/10 messages/s; each watch sends its second when its last reading is taken, the watches spread over the
second by 100 ms phases), ``--burst N`` writes N messages (N * 10 events) of ``--devices`` watches as fast as it
can (event times ending now). Message values are assembled from a pool of pre-serialised tails so the producer
spends its time producing, not in json.dumps. Prints one JSON line with what it produced (messages and events).
Uses confluent-kafka (librdkafka) with the generator's producer settings (acks=all, idempotence, lz4).
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

READINGS_PER_MESSAGE = 10  # events per message: one second at 10 Hz
TICK_SECONDS = 0.1
INTERVAL_MS = round(TICK_SECONDS * 1000)
POOL_SIZE = 4096
LOCATIONS = (None, "house", "road", "work", "store")


def tail_pool(seed: int = 7) -> list[bytes]:
    """Serialised message tails (every field after event_time: a second of readings), with varied values."""
    rng = random.Random(seed)
    pool = []
    for _ in range(POOL_SIZE):
        location = rng.choice(LOCATIONS)
        body: dict[str, Any] = {"interval_ms": INTERVAL_MS}
        body |= {
            name: [round(rng.gauss(0, 1), 6) for _ in range(READINGS_PER_MESSAGE)] for name in MOTION_FIELDS
        }
        body["location_type"] = location
        body |= {name: (round(rng.gauss(5, 2), 6) if location else None) for name in LOCATION_FIELDS}
        body["battery_state"] = rng.choice(("unplugged", "full"))
        body["true_activity"] = "unknown"
        pool.append(json.dumps(body, separators=(",", ":"))[1:].encode())
    return pool


def stamp(epoch: float) -> bytes:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3].encode() + b"Z"


class Messages:
    """Builds message values; device i is ``<prefix><i:05d>``, its k-th message starts at seq ``k * 10``."""

    def __init__(self, prefix: str, devices: int) -> None:
        self.pool = tail_pool()
        self.keys = [f"{prefix}{i:05d}".encode() for i in range(devices)]
        self.heads = [
            b'{"schema_version":%d,"device_id":"%s","seq":' % (WATCH_MESSAGE_VERSION, key)
            for key in self.keys
        ]

    def value(self, device: int, second: int, first_reading: bytes) -> bytes:
        """Message ``second`` of ``device``, its first reading taken at ``first_reading``."""
        tail = self.pool[(device * 7919 + second) % POOL_SIZE]
        seq = second * READINGS_PER_MESSAGE
        return b'%s%d,"event_time":"%s",%s' % (self.heads[device], seq, first_reading, tail)


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
    """``rate`` events/s: rate/10 watches; at each 100 ms tick the tenth of them whose phase it is send their last
    second (the message's last reading is the tick)."""
    devices = max(1, round(rate / READINGS_PER_MESSAGE))
    messages = Messages(prefix, devices)
    phases = round(1 / TICK_SECONDS)
    span = (READINGS_PER_MESSAGE - 1) * TICK_SECONDS
    started = time.time()
    ticks = int(seconds / TICK_SECONDS)
    worst_lag = 0.0
    sent = 0
    for tick in range(ticks):
        due = started + tick * TICK_SECONDS
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        worst_lag = max(worst_lag, -wait)
        first_reading = stamp(due - span)
        for device in range(tick % phases, devices, phases):
            send(client, topic, messages.keys[device], messages.value(device, tick // phases, first_reading))
            sent += 1
        client.poll(0)
    produced_in = time.time() - started
    client.flush(60)
    return {
        "mode": "paced",
        "target_events_per_second": rate,
        "devices": devices,
        **_counts(sent, produced_in),
        "worst_lag_behind_schedule_s": round(worst_lag, 3),
    }


def _counts(messages: int, seconds: float) -> dict[str, Any]:
    events = messages * READINGS_PER_MESSAGE
    return {"messages": messages, "events": events, "seconds": round(seconds, 2),
            "achieved_messages_per_second": round(messages / seconds),
            "achieved_events_per_second": round(events / seconds)}  # fmt: skip


def burst(client: Producer, topic: str, count: int, devices: int, prefix: str) -> dict[str, Any]:
    """``count`` messages, second after second of ``devices`` watches, the last second ending now."""
    messages = Messages(prefix, devices)
    seconds_of_data = -(-count // devices)
    first = time.time() - seconds_of_data
    started = time.time()
    sent = 0
    for second in range(seconds_of_data):
        first_reading = stamp(first + second)
        for device in range(min(devices, count - sent)):
            send(client, topic, messages.keys[device], messages.value(device, second, first_reading))
        sent += min(devices, count - sent)
        client.poll(0)
    client.flush(120)
    return {"mode": "burst", "devices": devices, **_counts(sent, time.time() - started)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--prefix", default="watch-")
    parser.add_argument(
        "--rate",
        type=int,
        help="paced: events (readings) per second: rate/10 watches, one message each per second",
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--burst", type=int, help="burst: this many messages (10 events each) as fast as possible"
    )
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

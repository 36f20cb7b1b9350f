"""A queued window's messages read back from Kafka: its 10 Hz motion readings (the page's plot) and the
generator's ``true_activity`` (the oracle's answer, which nothing else reads).

Why read back rather than keep them with the queue row: by the time a window reaches the predictor's sink it is
partial sums (the JVM assembler's state holds sums per second, not readings; holding 600 readings x 9 axes per
open window in that state would multiply its size for the few windows that get queued), while Kafka keeps every
message for ``kafka.retention_ms`` keyed by watch. The same read gives the oracle the ground truth without it ever
passing through features, the queue or the model. A window older than the retention shows only the per-second
|acceleration| / |rotation rate| signal of its queue row.

The window's messages are found without stored offsets: the record key (the device id) names the partition
(Kafka's murmur2 partitioner; the others are tried when it holds none), a binary search over offsets finds the
first message at the window's start minus a slack (within a partition, event times grow with offsets but for the
few seconds by which watches interleave), and a scan reads on to the window's end plus that slack. When that finds
nothing, the key's partition is scanned whole (its last ``annotate.kafka_scan_max_messages`` records), in case its
event times are out of order.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from watchlake.settings import Settings

log = logging.getLogger(__name__)

MOTION_AXES = (
    "user_acceleration_x",
    "user_acceleration_y",
    "user_acceleration_z",
    "rotation_rate_x",
    "rotation_rate_y",
    "rotation_rate_z",
)
SLACK = timedelta(seconds=30)  # how far watches' event times interleave within a partition, at most


@dataclass(frozen=True)
class WindowReadings:
    """One window's readings in time order: seconds from the window's start, and per motion axis its values."""

    seconds: list[float]
    axes: dict[str, list[float]]
    true_activities: list[str]  # one per message (second), for the oracle only

    @property
    def true_activity(self) -> str | None:
        """The class the generator simulated for most of the window's seconds."""
        counts = Counter(self.true_activities)
        return counts.most_common(1)[0][0] if counts else None


def _event_time(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(message["event_time"]).astimezone(UTC).replace(tzinfo=None)


def to_window_readings(messages: list[dict[str, Any]], window_start: datetime) -> WindowReadings:
    """The readings of ``messages`` (parsed watch messages, any order) relative to ``window_start`` (pure)."""
    seconds: list[float] = []
    axes: dict[str, list[float]] = {axis: [] for axis in MOTION_AXES}
    truth = []
    for message in sorted(messages, key=lambda m: (m["event_time"], m["seq"])):
        offset = (_event_time(message) - window_start).total_seconds()
        step = message.get("interval_ms", 100) / 1000.0
        count = len(message[MOTION_AXES[0]])
        seconds.extend(round(offset + k * step, 3) for k in range(count))
        for axis in MOTION_AXES:
            axes[axis].extend(message[axis])
        truth.append(message.get("true_activity"))
    return WindowReadings(seconds, axes, [t for t in truth if t])


def _murmur2_partition(key: bytes, partitions: int) -> int:
    from kafka.partitioner.default import murmur2

    return (murmur2(key) & 0x7FFFFFFF) % partitions


class _Partition:
    """Reads single records and runs of one topic partition."""

    def __init__(self, consumer: Any, tp: Any, timeout_ms: int) -> None:
        self.consumer, self.tp, self.timeout_ms = consumer, tp, timeout_ms
        self.first = consumer.beginning_offsets([tp])[tp]
        self.end = consumer.end_offsets([tp])[tp]

    def records_from(self, offset: int) -> Any:
        if offset >= self.end:  # nothing there: a poll would wait its whole timeout
            return
        self.consumer.seek(self.tp, offset)
        while True:
            batch = self.consumer.poll(timeout_ms=self.timeout_ms, max_records=500).get(self.tp, [])
            if not batch:
                return
            yield from batch
            if batch[-1].offset + 1 >= self.end:
                return

    def time_at(self, offset: int) -> datetime | None:
        for record in self.records_from(offset):
            return _event_time(orjson.loads(record.value))
        return None

    def first_offset_at(self, when: datetime) -> int:
        """The first offset whose event time is at least ``when`` (binary search; ``end`` when none)."""
        low, high = self.first, self.end
        while low < high:
            middle = (low + high) // 2
            at = self.time_at(middle)
            if at is None or at >= when:
                high = middle
            else:
                low = middle + 1
        return low

    def messages_of(self, key: bytes, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The window's messages, found by the offset search."""
        found = []
        for record in self.records_from(self.first_offset_at(start - SLACK)):
            message = orjson.loads(record.value)
            at = _event_time(message)
            if at > end + SLACK:
                break
            if record.key == key and start <= at < end:
                found.append(message)
        return found

    def scan_for(self, key: bytes, start: datetime, end: datetime, most: int) -> list[dict[str, Any]]:
        """The window's messages from a scan of the whole partition (at most its last ``most`` records): for a
        partition whose event times are not in order (a ``--fresh`` stream behind an earlier, faster one)."""
        found = []
        for record in self.records_from(max(self.first, self.end - most)):
            if record.key == key:
                message = orjson.loads(record.value)
                if start <= _event_time(message) < end:
                    found.append(message)
        return found


def read_window(
    settings: Settings, device_id: str, window_start: datetime, window_end: datetime
) -> WindowReadings | None:
    """The messages of ``device_id`` between the window's start and end in ``kafka.topic``; None when Kafka does
    not answer or holds none of them (past its retention)."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    timeout_ms = round(settings.annotate.kafka_read_timeout_seconds * 1000)
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka.bootstrap_servers.split(","),
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=max(timeout_ms, 31_000),
            # Small fetches: the binary search reads one record per probe, not a megabyte.
            max_partition_fetch_bytes=256 * 1024,
            # kafka-python checks CRC32C in pure Python: 80 % of a read's time. These reads only show a window
            # (or tell the oracle its class); TCP and the broker's own checks guard the bytes.
            check_crcs=False,
        )
    except KafkaError as error:
        log.warning("annotate: Kafka at %s does not answer (%s)", settings.kafka.bootstrap_servers, error)
        return None
    try:
        topic = settings.kafka.topic
        ids = sorted(consumer.partitions_for_topic(topic) or ())
        if not ids:
            return None
        key = device_id.encode()
        preferred = _murmur2_partition(key, len(ids))
        parts = [TopicPartition(topic, p) for p in [preferred, *(i for i in ids if i != preferred)]]
        for tp in parts:
            consumer.assign([tp])  # one at a time: a poll then fetches only the partition being searched
            messages = _Partition(consumer, tp, timeout_ms).messages_of(key, window_start, window_end)
            if messages:
                return to_window_readings(messages, window_start)
        consumer.assign([parts[0]])
        most = settings.annotate.kafka_scan_max_messages
        messages = _Partition(consumer, parts[0], timeout_ms).scan_for(key, window_start, window_end, most)
        return to_window_readings(messages, window_start) if messages else None
    except KafkaError as error:
        log.warning(
            "annotate: reading window %s %s back from Kafka failed: %s", device_id, window_start, error
        )
        return None
    finally:
        consumer.close()

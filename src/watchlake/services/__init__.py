"""Local services for the streaming half (Kafka, PostgreSQL, moto), started and stopped by ``watchlake up|down``.

Each service module offers ``start(settings) -> ServiceInfo``, ``stop(settings) -> ServiceInfo`` and
``status(settings) -> ServiceInfo``; data, logs and pid files live under ``<runtime_dir>/<service>/``.
"""

from __future__ import annotations

SERVICE_NAMES = ("kafka", "postgres", "moto")

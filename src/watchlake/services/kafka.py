"""A single-node Apache Kafka broker in KRaft mode (broker + controller in one JVM) for local runs and tests.

Jars come from ``<jvm.lib_dir>/kafka-broker`` (scripts/fetch-jars.sh); configuration, data and log live in
``<runtime_dir>/kafka``. Listeners are on loopback: the client port of ``kafka.bootstrap_servers`` and
``kafka.controller_port``. Topics named in the settings are created with their partition count and retention.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from watchlake.errors import ServiceError
from watchlake.services import process
from watchlake.services.process import ServiceInfo
from watchlake.settings import Settings

log = logging.getLogger(__name__)

NAME = "kafka"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
HEAP = ("-Xms256m", "-Xmx512m")
START_TIMEOUT = 120.0


def client_address(settings: Settings) -> tuple[str, int]:
    """Host and port of the first bootstrap server; only a loopback address can be started here."""
    first = settings.kafka.bootstrap_servers.split(",")[0]
    host, port = process.split_host_port(first, 9092)
    if not process.is_loopback(host):
        raise ServiceError(
            f"kafka: kafka.bootstrap_servers points at {first}; `watchlake up` starts only a local broker "
            "(set WATCHLAKE_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:<port>)"
        )
    return process.LOOPBACK, port


def java_binary() -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java`` or the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home, "bin", "java") if home else None
    if candidate is not None and candidate.is_file():
        return str(candidate)
    found = shutil.which("java")
    if not found:
        raise ServiceError(
            "kafka: Java is missing; install a JDK 17+ (apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME"
        )
    return found


def broker_classpath(settings: Settings) -> str:
    """The broker's classpath; a clear error when scripts/fetch-jars.sh has not run."""
    folder = settings.jvm.lib_path / "kafka-broker"
    jars = sorted(folder.glob("*.jar"))
    if not any(jar.name.startswith("kafka_2.13-") for jar in jars):
        raise ServiceError(f"kafka: the broker jars are not in {folder}; run scripts/fetch-jars.sh first")
    return os.pathsep.join(str(jar) for jar in jars)


def _paths(settings: Settings) -> dict[str, Path]:
    home = process.service_dir(settings.runtime_dir, NAME)
    return {
        "home": home,
        "config": home / "server.properties",
        "log4j": home / "log4j2.properties",
        "data": home / "data",
        "log": home / "kafka.log",
        "pid": home / "kafka.pid",
        "state": home / "state.json",
    }


def _server_properties(settings: Settings, data_dir: Path) -> str:
    host, port = client_address(settings)
    controller = settings.kafka.controller_port
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": str(settings.kafka.partitions),
        "log.retention.ms": str(settings.kafka.retention_ms),
        # One node: every internal topic has a single replica.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


_LOG4J2 = """\
# Broker log to stdout (redirected to kafka.log by watchlake); quiet below WARN except the server's own INFO lines.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
"""


def _cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (as ``kafka-storage random-uuid``)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _format_storage(java: str, classpath: str, paths: dict[str, Path]) -> None:
    """Format the KRaft log directory on first start (when it holds no ``meta.properties``)."""
    if (paths["data"] / "meta.properties").exists():
        return
    command = [java, *HEAP, "-cp", classpath, f"-Dlog4j2.configurationFile={paths['log4j']}", STORAGE_TOOL]
    # "--cluster-id=ID" in one word: a random id may start with "-", which the tool would read as an option.
    command += ["format", "--ignore-formatted", f"--cluster-id={_cluster_id()}", "-c", str(paths["config"])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise ServiceError(f"kafka: formatting {paths['data']} failed:\n{result.stdout}{result.stderr}")
    log.info("kafka: formatted storage in %s", paths["data"])


def start(settings: Settings) -> ServiceInfo:
    """Start the broker unless it already runs; wait until it answers; create the topics of the settings."""
    paths = _paths(settings)
    host, port = client_address(settings)
    token = str(paths["config"])
    pid = process.live_pid(paths["pid"], token, NAME)
    if pid is None:
        java, classpath = java_binary(), broker_classpath(settings)
        process.ensure_port_free(host, port, NAME, "kafka.bootstrap_servers")
        process.ensure_port_free(host, settings.kafka.controller_port, NAME, "kafka.controller_port")
        paths["config"].write_text(_server_properties(settings, paths["data"]))
        paths["log4j"].write_text(_LOG4J2)
        _format_storage(java, classpath, paths)
        command = [java, *HEAP, "-XX:+UseG1GC", "-Djava.awt.headless=true"]
        command += [f"-Dlog4j2.configurationFile={paths['log4j']}", "-cp", classpath, MAIN_CLASS, token]
        pid = process.spawn(command, paths["log"])
        paths["pid"].write_text(f"{pid}\n")
        process.write_state(paths["state"], pid=pid, address=f"{host}:{port}", log_file=str(paths["log"]))
        process.wait_healthy(NAME, pid, token, lambda: _answers(settings), paths["log"], START_TIMEOUT)
        log.info("kafka: broker pid %d on %s:%d", pid, host, port)
    else:
        log.info("kafka: already running (pid %d on %s:%d)", pid, host, port)
    for topic in (settings.kafka.topic, settings.kafka.dead_letter_topic):
        if topic:
            ensure_topic(settings, topic)
    return status(settings)


def _answers(settings: Settings) -> bool:
    """True when the broker accepts a connection and reports its cluster metadata."""
    host, port = client_address(settings)
    if not process.port_open(host, port):
        return False
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=f"{host}:{port}", request_timeout_ms=5000)
    except KafkaError:
        return False
    try:
        admin.describe_cluster()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


def ensure_topic(
    settings: Settings, topic: str, partitions: int | None = None, retention_ms: int | None = None
) -> bool:
    """Create ``topic`` (partitions and retention default to the settings); False when it already existed."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    new_topic = NewTopic(
        topic,
        num_partitions=partitions or settings.kafka.partitions,
        replication_factor=1,
        topic_configs={"retention.ms": str(retention_ms or settings.kafka.retention_ms)},
    )
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers, request_timeout_ms=15000)
    try:
        admin.create_topics([new_topic], wait_for_metadata=True)
    except TopicAlreadyExistsError:
        return False
    finally:
        admin.close()
    log.info("kafka: created topic %s (%d partitions)", topic, new_topic.num_partitions)
    return True


def stop(settings: Settings) -> ServiceInfo:
    """Stop the broker if watchlake started it (controlled shutdown, then SIGKILL after 30 s)."""
    elsewhere = managed_elsewhere(settings)
    if elsewhere is not None:
        return elsewhere
    paths = _paths(settings)
    pid = process.live_pid(paths["pid"], str(paths["config"]), NAME)
    if pid is not None:
        process.stop_pid(pid, str(paths["config"]), NAME, timeout=30.0)
        log.info("kafka: stopped pid %d", pid)
    paths["pid"].unlink(missing_ok=True)
    return status(settings)


def managed_elsewhere(settings: Settings) -> ServiceInfo | None:
    """A ``skipped`` row when ``kafka.bootstrap_servers`` is not on loopback (MSK, another host): no local broker
    is wanted, so ``status`` and ``down`` show that instead of failing; None for a local broker."""
    first = settings.kafka.bootstrap_servers.split(",")[0].strip()
    host, _ = process.split_host_port(first, 9092)
    if process.is_loopback(host):
        return None
    return ServiceInfo(
        NAME, "skipped", first, detail="kafka.bootstrap_servers is not on loopback: not run here"
    )


def status(settings: Settings) -> ServiceInfo:
    elsewhere = managed_elsewhere(settings)
    if elsewhere is not None:
        return elsewhere
    paths = _paths(settings)
    host, port = client_address(settings)
    pid = process.live_pid(paths["pid"], str(paths["config"]), NAME)
    if pid is None:
        return ServiceInfo(NAME, "stopped", f"{host}:{port}", log_file=str(paths["log"]))
    healthy = process.port_open(host, port)
    return ServiceInfo(NAME, "running", f"{host}:{port}", pid, healthy, str(paths["log"]))

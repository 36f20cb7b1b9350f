"""The one typed settings object of watchlake.

Precedence, lowest first: field defaults < ``conf/<env>.yaml`` (shipped in the package, or the file named by
``WATCHLAKE_CONF_FILE``) < ``WATCHLAKE_*`` environment variables (nested with ``__``, e.g.
``WATCHLAKE_KAFKA__BOOTSTRAP_SERVERS``) < explicit keyword overrides given to :func:`load_settings`.
Secrets (passwords, keys) are read from the environment only and never written back.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from watchlake.errors import ConfigError

# docker: the services of docker-compose.yml, reached by their service names on the Compose network.
ENVIRONMENTS = ("local", "aws", "docker")


class _Section(BaseModel):
    # A typo in a YAML key must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class LakeSettings(_Section):
    """Where the lake lives: a local folder or an ``s3://`` / ``s3a://`` prefix."""

    root: str = ".runtime/lake"


class SparkSettings(_Section):
    master: str = "local[*]"
    shuffle_partitions: int = Field(default=8, ge=1)
    driver_memory: str = "4g"
    # The Spark JVM's log level (conf/log4j2.properties): ERROR keeps Spark's and Hive's routine warnings out of a
    # user's terminal; `watchlake -v` shows WARN.
    log_level: Literal["ERROR", "WARN", "INFO", "DEBUG"] = "ERROR"
    ui_enabled: bool = True
    # True only inside EMR (the EMR steps set it): EMRFS serves s3:// and the cluster names the Glue catalog there.
    # Elsewhere an S3 lake is reached through Hadoop's S3A connector (jvm/lib/s3a), and a Glue catalog or the yarn
    # master without a cluster configuration is refused at start-up.
    on_emr: bool = False
    # The JVMs' garbage collector: parallel gives the batch stages 7-8 % more throughput than G1 (bench/clean);
    # its young-generation pauses (tens of ms at these heap sizes) are far below a streaming micro-batch.
    garbage_collector: Literal["parallel", "g1"] = "parallel"
    # A local driver JVM maps the class archive built by scripts/setup.sh (watchlake/jvm_archive_builder.py): a
    # fresh process starts its session in about two thirds of the time.
    class_data_sharing: bool = True
    # Extra Spark configuration, passed through unchanged (e.g. spark.executor.memory on EMR).
    conf: dict[str, str] = Field(default_factory=dict)


class CatalogSettings(_Section):
    """The table catalog: Hive locally, the Glue Data Catalog on EMR.

    A Hive catalog keeps its metastore in ``metastore_database`` of the local PostgreSQL (reached with the
    ``warehouse.*`` host, port, user and password), which several Spark processes can open at once; ``derby``
    keeps it in an embedded Derby database under ``runtime_dir`` instead (no service, one process at a time).
    """

    kind: Literal["hive", "glue", "none"] = "hive"
    database: str = "watchlake"
    metastore: Literal["postgres", "derby"] = "postgres"
    # A plain lower-case identifier: it goes into a JDBC URL and a CREATE DATABASE unquoted by PostgreSQL.
    metastore_database: str = Field(default="watchlake_metastore", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class JvmSettings(_Section):
    """Jars fetched by Maven (``scripts/fetch-jars.sh``), one folder per classpath, and the class archive built
    from them (``watchlake.jvm_archive``)."""

    # Empty: the checkout's own jvm/lib, where scripts/fetch-jars.sh puts them (whatever the working folder).
    lib_dir: str = ""
    # Empty: <lib_dir>/cds. Shared by every runtime folder of the machine: it depends on the jars and the JDK only.
    archive_dir: str = ""

    @property
    def lib_path(self) -> Path:
        if self.lib_dir:
            return Path(self.lib_dir).expanduser().resolve()
        return Path(__file__).resolve().parents[2] / "jvm" / "lib"

    @property
    def archive_path(self) -> Path:
        return Path(self.archive_dir).expanduser().resolve() if self.archive_dir else self.lib_path / "cds"


class KafkaSettings(_Section):
    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "ticker-watch-data"
    dead_letter_topic: str = "ticker-watch-data-dlq"
    partitions: int = Field(default=2, ge=1)
    retention_ms: int = Field(default=24 * 3600 * 1000, ge=60_000)
    controller_port: int = Field(default=9093, ge=1, le=65535)


class WarehouseSettings(_Section):
    """The SQL warehouse: PostgreSQL locally, Redshift on AWS. The password comes from the environment only."""

    kind: Literal["postgres", "redshift"] = "postgres"
    host: str = "127.0.0.1"
    port: int = Field(default=5433, ge=1, le=65535)
    database: str = "watchlake"
    user: str = "watchlake"
    password: SecretStr = SecretStr("")
    schema_name: str = "public"
    # A lost connection (a warehouse restart) is retried this many times in all, the first retry after
    # reconnect_first_delay_seconds, each next one twice as late, at most reconnect_max_delay_seconds apart
    # (defaults: about 2 minutes of waiting before the stream gives up).
    reconnect_attempts: int = Field(default=8, ge=1)
    reconnect_first_delay_seconds: float = Field(default=0.5, ge=0)
    reconnect_max_delay_seconds: float = Field(default=30.0, ge=0)


class AwsSettings(_Section):
    region: str = "us-east-1"
    # Set to a moto server URL to simulate AWS; empty means the real endpoints.
    endpoint_url: str = ""
    # The lake's bucket (code bundle, EMR logs): taken from lake.root when that is on S3, so leave it empty there;
    # a different value is refused at start-up. Set it only for a local lake whose EMR code lives in S3.
    bucket: str = ""
    # Pin the EMR target to this cluster instead of finding one by orchestration.emr.tags (or creating one).
    emr_cluster_id: str = ""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "glue_database" in data:
            raise PydanticCustomError(
                "renamed_setting",
                "aws.glue_database is gone: the Glue database is catalog.database (one name for one database); "
                "move the value there",
            )
        return data


class IngestSettings(_Section):
    """The CASAS archives and how they are fetched."""

    archive_urls: list[str] = Field(
        default_factory=lambda: [
            "https://casas.wsu.edu/datasets/smartwatch/group1.zip",
            "https://casas.wsu.edu/datasets/smartwatch/group2.zip",
            "https://casas.wsu.edu/datasets/smartwatch/group3.zip",
        ]
    )
    download_dir: str = ""  # empty: <runtime_dir>/downloads
    retries: int = Field(default=5, ge=0)
    retry_backoff_seconds: float = Field(default=2.0, ge=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    multipart_chunk_mb: int = Field(default=64, ge=5)


class SampleSettings(_Section):
    """Defaults of the CASAS-format sample generator (``watchlake sample``)."""

    participants: int = Field(default=6, ge=1)
    hours: float = Field(default=2.0, gt=0)
    groups: int = Field(default=3, ge=1)
    seed: int = 7
    out_dir: str = ""  # empty: <runtime_dir>/sample


class LabelSettings(_Section):
    """How single-row CASAS labels become classes; the raw-to-class mapping is data in ``conf/labels.yaml``."""

    span_seconds: float = Field(default=300.0, gt=0)
    mapping_file: str = ""  # empty: the packaged conf/labels.yaml


class FeatureSettings(_Section):
    """Feature windows (whole seconds: a window is made of seconds of readings)."""

    window_seconds: int = Field(default=60, ge=1)
    step_seconds: int = Field(default=60, ge=1)
    # A window holding fewer readings than this share of window_seconds * 10 (the 10 Hz rate) is partial: left
    # out of training and marked ``partial`` in predictions (a lone labelled last row, a watch that went silent).
    min_readings_share: float = Field(default=0.5, ge=0, le=1)


class TrainSettings(_Section):
    classifier: Literal["random_forest", "logistic_regression"] = "random_forest"
    num_trees: int = Field(default=60, ge=1)
    max_depth: int = Field(default=10, ge=1, le=30)
    split_by: Literal["participant", "time_block"] = "participant"
    test_fraction: float = Field(default=0.3, gt=0, lt=1)
    # split_by=time_block: blocks of this length per participant go wholly to train or test.
    time_block_seconds: float = Field(default=600.0, gt=0)
    promotion_margin: float = Field(default=0.0, ge=0)
    promotion_metric: Literal["macro_f1", "accuracy", "weighted_f1"] = "macro_f1"
    model_name: str = Field(default="activity", pattern=r"^[A-Za-z0-9_-]+$")
    seed: int = 42
    # watchlake retrain: this share of the feature store's labelled windows is held out (chosen by a seeded hash
    # of the window, so the same windows stay held out as labels accumulate) and scored with the base held-out
    # participants.
    label_test_fraction: float = Field(default=0.3, ge=0, lt=1)
    label_seed: int = 17


class FeatureStoreSettings(_Section):
    """The Feast feature store of annotated windows (``watchlake.feature_store``).

    Locally the online store is the warehouse's PostgreSQL (``warehouse.*``, schema ``online_schema``) and the
    offline store Parquet in the lake (``Lake.feature_store``). ``online_store`` / ``offline_store`` given here
    (conf/aws.yaml: DynamoDB and Redshift) are Feast store configurations passed through unchanged instead.
    """

    project: str = Field(default="watchlake", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    repo_dir: str = ""  # empty: <runtime_dir>/feature_repo (Feast's registry file and repo path)
    registry: str = ""  # empty: <repo_dir>/registry.db; an s3:// path on AWS
    online_schema: str = Field(default="feast", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    online_store: dict[str, Any] = Field(default_factory=dict)
    offline_store: dict[str, Any] = Field(default_factory=dict)
    # Offline table of the labels when the offline store is a database (Redshift, Athena) rather than files.
    offline_table: str = "window_labels"
    # Seconds a pusher waits for the store's lock before giving up.
    lock_timeout_seconds: float = Field(default=60.0, gt=0)


class StatsSettings(_Section):
    """Descriptive statistics of the processed readings (``watchlake stats``)."""

    quantiles: list[float] = Field(default_factory=lambda: [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    # percentile_approx accuracy: higher is more exact and slower.
    quantile_accuracy: int = Field(default=10_000, ge=100)
    # A stamp step above this starts a new activity segment (CASAS restarts its 10 Hz grid after 10 s).
    max_gap_seconds: float = Field(default=10.0, gt=0)
    # Copy of the statistics in the SQL warehouse (warehouse.*): auto = when it answers (a warning when not),
    # required = the run fails when it does not answer, off = lake only.
    warehouse_copy: Literal["auto", "required", "off"] = "auto"


class GenerateSettings(_Section):
    """Synthetic watches (``watchlake generate``): dbldatagen driven by the activity statistics."""

    devices: int = Field(default=100, ge=1)
    rows_per_second: int = Field(default=1000, ge=1)
    seed: int = 11
    # Event time of sequence number 0; empty: the current time (UTC wall clock) when the run starts.
    start: str = ""
    # Segments in one device's repeating activity schedule; devices start at different places in it.
    schedule_segments: int = Field(default=64, ge=1)
    batch_rows: int = Field(default=1_000_000, ge=1)
    stream_seconds: float = Field(default=60.0, gt=0)
    trigger_seconds: float = Field(default=1.0, ge=0)
    # Kafka producer tuning of the Spark sink (acks=all and idempotence are always on).
    producer_linger_ms: int = Field(default=20, ge=0)
    producer_batch_size: int = Field(default=262_144, ge=1)
    producer_compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    # Rows per class and column kept for the fidelity report's KS statistics.
    fidelity_sample_rows: int = Field(default=5_000, ge=100)


class PredictSettings(_Section):
    """Streaming prediction (``watchlake predict``): Kafka -> windows -> champion model -> warehouse."""

    query_name: str = "predict"
    # A window is queued for annotation when this measure is below the threshold (entropy: above it).
    confidence_measure: Literal["max_probability", "margin", "entropy"] = "margin"
    low_confidence_threshold: float = Field(default=0.2, ge=0)
    # At most this many of a micro-batch's low-confidence windows are queued, the least confident first: an
    # annotator labels a few hundred windows an hour, and a poorly calibrated model would queue most of them.
    max_queued_per_batch: int = Field(default=200, ge=0)
    watermark_seconds: float = Field(default=10.0, ge=0)
    trigger_seconds: float = Field(default=1.0, ge=0)
    starting_offsets: Literal["earliest", "latest"] = "earliest"
    max_offsets_per_trigger: int = Field(default=2_000_000, ge=1)
    # Messages larger than this go to the dead letters unparsed.
    max_message_bytes: int = Field(default=16_384, ge=256)


class EmrSettings(_Section):
    """The EMR cluster the ``emr`` target runs Spark stages on: found by its tags (or ``aws.emr_cluster_id``),
    created when none is up. S3 keys are relative to ``s3://<aws.bucket>/``."""

    # AWS runtime for Apache Spark 8.1 (LTS): Spark 4.1.1, the version pyspark is pinned to.
    release_label: str = "emr-spark-8.1.0"
    applications: list[str] = Field(default_factory=lambda: ["Spark"])
    master_instance_type: str = "m7g.xlarge"
    core_instance_type: str = "m7g.xlarge"
    core_instance_count: int = Field(default=2, ge=0)
    service_role: str = "EMR_DefaultRole"
    instance_profile: str = "EMR_EC2_DefaultRole"
    # Empty: s3://<aws.bucket>/emr-logs/ (steps' stdout and stderr land there, per cluster and step).
    log_uri: str = ""
    # The code bundle (wheel, jars, spark_jobs/) and the bootstrap action that installs it.
    code_prefix: str = "code"
    bootstrap_script_key: str = "code/bootstrap/install-watchlake.sh"
    tags: dict[str, str] = Field(default_factory=lambda: {"project": "watchlake"})
    # A cluster with nothing to run terminates itself after this long.
    idle_timeout_seconds: int = Field(default=3600, ge=60)
    step_poll_seconds: float = Field(default=30.0, gt=0)
    # EMR copies step logs to the log URI every few minutes: how long a failed task waits for its step's stderr.
    step_log_wait_seconds: float = Field(default=330.0, ge=0)
    # The Airflow connection the Amazon provider's operators use (its extra may carry an endpoint_url).
    aws_conn_id: str = "aws_default"


class OrchestrationSettings(_Section):
    """Where the DAGs' tasks run: ``local`` (the stage's CLI in a subprocess) or ``emr`` (Spark stages as EMR
    steps; the other stages through the CLI beside Airflow)."""

    target: Literal["local", "emr"] = "local"
    emr: EmrSettings = EmrSettings()
    # The address `watchlake airflow` serves its UI and API on. In a container (conf/docker.yaml) 0.0.0.0, so the
    # port Compose publishes (on the host's 127.0.0.1) reaches it.
    airflow_host: str = "127.0.0.1"
    # The DAG files; empty: the checkout's dags/ (an installed package has none beside it: the image sets one).
    dags_folder: str = ""


class AnnotateSettings(_Section):
    """The annotation service (``watchlake annotate``): a page and a JSON API on loopback, and the oracle."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    # A leased window is no one else's for this long; a label after it is refused (the window went back).
    lease_seconds: float = Field(default=300.0, gt=0)
    # Signs session cookies and CSRF tokens. From the environment only (WATCHLAKE_ANNOTATE__SESSION_SECRET);
    # empty: a random secret per server start, so sessions end when the server stops.
    session_secret: SecretStr = SecretStr("")
    session_hours: float = Field(default=12.0, gt=0)
    # Requests with a larger body are refused (413) before they are read.
    max_body_bytes: int = Field(default=16_384, ge=1024)
    max_note_chars: int = Field(default=500, ge=0)
    # The simulated annotator (``--oracle``): its account name, and the share of its labels replaced by another
    # class (drawn with oracle_seed), to see how label noise reaches the model.
    oracle_user: str = Field(default="oracle", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    oracle_noise: float = Field(default=0.0, ge=0, le=1)
    oracle_seed: int = 13
    # How long a read of a window's messages back from Kafka (the 10 Hz plot, the oracle's truth) may take.
    kafka_read_timeout_seconds: float = Field(default=10.0, gt=0)
    # When the offset search finds none of a window's messages, at most this many of its partition's last records
    # are scanned (about 1 s per 50,000).
    kafka_scan_max_messages: int = Field(default=200_000, ge=0)


class MonitorSettings(_Section):
    """The monitoring figures (``/monitor`` in the annotation app, ``watchlake status``), read from the warehouse."""

    # The page fetches its figures again this often (htmx polling).
    refresh_seconds: float = Field(default=5.0, gt=0)
    # Percentiles, dead letters, watermark drops and the recent confidence distribution cover this span.
    window_seconds: int = Field(default=3600, ge=60)
    # Messages/s in and windows/s scored are averaged over this span (a short one, to show the current rate).
    rate_seconds: int = Field(default=60, ge=1)
    # Labels per hour: this many hours back, the current one included.
    label_hours: int = Field(default=12, ge=1, le=168)


class Settings(BaseSettings):
    """Everything a stage may read. Built only by :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="WATCHLAKE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    env: Literal["local", "aws", "docker"] = "local"
    runtime_dir: str = ".runtime"
    lake: LakeSettings = LakeSettings()
    spark: SparkSettings = SparkSettings()
    catalog: CatalogSettings = CatalogSettings()
    jvm: JvmSettings = JvmSettings()
    kafka: KafkaSettings = KafkaSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    aws: AwsSettings = AwsSettings()
    ingest: IngestSettings = IngestSettings()
    sample: SampleSettings = SampleSettings()
    labels: LabelSettings = LabelSettings()
    features: FeatureSettings = FeatureSettings()
    train: TrainSettings = TrainSettings()
    stats: StatsSettings = StatsSettings()
    generate: GenerateSettings = GenerateSettings()
    predict: PredictSettings = PredictSettings()
    feature_store: FeatureStoreSettings = FeatureStoreSettings()
    orchestration: OrchestrationSettings = OrchestrationSettings()
    annotate: AnnotateSettings = AnnotateSettings()
    monitor: MonitorSettings = MonitorSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls, _conf_data.get() or {}))

    @model_validator(mode="after")
    def _settings_agree(self) -> Settings:
        """Settings that contradict each other fail here, at start-up, naming the keys (see :func:`disagreements`).
        ``aws.bucket`` left empty is taken from an S3 ``lake.root`` first (one name for the bucket)."""
        lake_bucket = bucket_of_uri(self.lake.root)
        if lake_bucket and not self.aws.bucket:
            # Frozen model: the derived value is set once, here, while the object is being built.
            object.__setattr__(self, "aws", self.aws.model_copy(update={"bucket": lake_bucket}))
        found = disagreements(self)
        if found:
            raise PydanticCustomError("settings_disagree", "; ".join(found))
        return self


class _YamlSource(PydanticBaseSettingsSource):
    """Hands the already-parsed environment file to pydantic as the lowest-priority source."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


# The parsed YAML of the load in progress; a context variable so concurrent loads cannot see each other's file.
_conf_data: ContextVar[dict[str, Any] | None] = ContextVar("watchlake_conf_data", default=None)


def conf_file_for(env: str) -> Path:
    """The configuration file of an environment: ``WATCHLAKE_CONF_FILE`` if set, else the packaged one."""
    explicit = os.environ.get("WATCHLAKE_CONF_FILE")
    if explicit:
        return Path(explicit)
    if env not in ENVIRONMENTS:
        raise ConfigError(f"env: unknown environment {env!r}; choose one of {', '.join(ENVIRONMENTS)}")
    return Path(str(resources.files("watchlake") / "conf" / f"{env}.yaml"))


def load_settings(env: str | None = None, **overrides: Any) -> Settings:
    """Build the settings of ``env`` (default ``$WATCHLAKE_ENV`` or ``local``).

    ``overrides`` are nested dicts keyed like the YAML (``lake={"root": "/tmp/x"}``) and win over everything.
    Raises :class:`ConfigError` naming every bad key.
    """
    env = env or os.environ.get("WATCHLAKE_ENV", "local")
    path = conf_file_for(env)
    data = _read_yaml(path)
    data["env"] = data.get("env", env)
    token = _conf_data.set(data)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            # A disagreement between keys has no location of its own: its message names the keys.
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" if item["loc"] else item["msg"]
            for item in error.errors()
        )
        raise ConfigError(
            f"bad settings (from {path}, WATCHLAKE_* variables or overrides): {problems}"
        ) from None
    finally:
        _conf_data.reset(token)


def with_section(settings: Settings, section: str, **values: Any) -> Settings:
    """A copy of ``settings`` whose ``section`` (``stats``, ``generate``, ...) has ``values`` instead (settings are
    frozen: commands and the demo derive what they change for one run). The values are validated like loaded ones
    and must agree with the other settings; a ConfigError names what is wrong."""
    current = getattr(settings, section)
    try:
        changed = type(current).model_validate({**dict(current), **values})
    except ValidationError as error:
        problems = "; ".join(
            f"{section}.{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ConfigError(f"bad settings for this run: {problems}") from None
    derived = settings.model_copy(update={section: changed})
    found = disagreements(derived)
    if found:
        raise ConfigError(f"bad settings for this run: {'; '.join(found)}")
    return derived


# Confidence measures that are probabilities or differences of probabilities, so lie in [0, 1] (entropy is in
# nats, up to ln(number of classes)).
_UNIT_MEASURES = ("max_probability", "margin")


def disagreements(settings: Settings) -> list[str]:
    """What in ``settings`` contradicts other settings the code assumes to agree, one message per pair naming the
    keys and what to change; empty when everything agrees."""
    features, labels, train, predict = settings.features, settings.labels, settings.train, settings.predict
    found = []
    if features.step_seconds > features.window_seconds:
        found.append(
            f"features.step_seconds ({features.step_seconds}) is greater than features.window_seconds "
            f"({features.window_seconds}): the seconds between windows would belong to none; make step_seconds "
            "at most window_seconds (equal: windows that do not overlap)"
        )
    if features.window_seconds > labels.span_seconds:
        found.append(
            f"features.window_seconds ({features.window_seconds}) is longer than labels.span_seconds "
            f"({labels.span_seconds:g}): a window takes the label of its last labelled row, and a label covers only "
            "the span before it; make the window at most the label span"
        )
    if train.split_by == "time_block" and train.time_block_seconds < features.window_seconds:
        found.append(
            f"train.time_block_seconds ({train.time_block_seconds:g}) is shorter than features.window_seconds "
            f"({features.window_seconds}) with train.split_by=time_block: every window would cross a block end "
            "and be dropped; make the blocks several windows long"
        )
    if train.promotion_margin >= 1:
        found.append(
            f"train.promotion_margin ({train.promotion_margin:g}) is 1 or more, but train.promotion_metric "
            f"({train.promotion_metric}) lies in [0, 1]: no challenger could ever be promoted; use a margin below 1"
        )
    if predict.confidence_measure in _UNIT_MEASURES and predict.low_confidence_threshold > 1:
        found.append(
            f"predict.low_confidence_threshold ({predict.low_confidence_threshold:g}) is above 1, but "
            f"predict.confidence_measure ({predict.confidence_measure}) lies in [0, 1]: every window would be "
            "queued; use a threshold in [0, 1] (or confidence_measure=entropy, in nats)"
        )
    outside = [q for q in settings.stats.quantiles if not 0 <= q <= 1]
    if outside:
        found.append(f"stats.quantiles {outside} are not levels in [0, 1]; use fractions such as 0.25")
    lake_bucket = bucket_of_uri(settings.lake.root)
    if lake_bucket and settings.aws.bucket != lake_bucket:
        found.append(
            f"aws.bucket ({settings.aws.bucket}) is not the bucket of lake.root ({settings.lake.root}): the code "
            "bundle and EMR logs would go to another bucket than the lake; leave aws.bucket empty (it is taken "
            "from lake.root) or make the two agree"
        )
    found += _kafka_disagreements(settings.kafka)
    return found


def bucket_of_uri(uri: str) -> str:
    """The bucket of an ``s3://`` or ``s3a://`` URI; empty for anything else."""
    for scheme in ("s3://", "s3a://"):
        if uri.startswith(scheme):
            return uri[len(scheme) :].split("/", 1)[0]
    return ""


def _kafka_disagreements(kafka: KafkaSettings) -> list[str]:
    found = []
    if kafka.dead_letter_topic == kafka.topic:
        found.append(
            f"kafka.dead_letter_topic is kafka.topic ({kafka.topic}): malformed messages would be set aside into "
            "the topic they came from; name another topic"
        )
    _, _, port = kafka.bootstrap_servers.split(",")[0].strip().rpartition(":")
    if port.isdigit() and int(port) == kafka.controller_port:
        found.append(
            f"kafka.controller_port ({kafka.controller_port}) is the port of kafka.bootstrap_servers "
            f"({kafka.bootstrap_servers}): the local broker listens on both; choose another controller port"
        )
    return found


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read configuration file {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"configuration file {path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping at the top level")
    return data

"""AWS clients built from the settings: the one place a boto3 client is made (S3 for ingest, registry, moto helper
and deploy; EMR for deploy).

Ground floor: imports only the settings, so any stage or service helper can use it without loading the others.
"""

from __future__ import annotations

from typing import Any

from watchlake.settings import Settings

# A simulated S3 (moto) accepts any key pair; these are used only when boto3 finds no credentials of its own.
SIMULATED_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def s3_client_options(
    settings: Settings, credentials_found: bool, timeout_seconds: float | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``boto3.client("s3", ...)`` under ``settings.aws``.

    Region always from ``settings.aws.region``. With ``aws.endpoint_url`` set (moto, or any S3 look-alike): that
    endpoint, path-style addressing (a loopback host has no per-bucket DNS names), and the placeholder key pair
    only when ``credentials_found`` is False. Credentials are never taken from settings: boto3's own chain
    (environment, profile, instance role) supplies them. ``timeout_seconds``: connect and read timeouts and a
    single attempt (a health probe), instead of boto3's patient defaults.
    """
    from botocore.config import Config

    options: dict[str, Any] = {"region_name": settings.aws.region}
    config = Config()
    if timeout_seconds is not None:
        config = config.merge(
            Config(
                connect_timeout=timeout_seconds,
                read_timeout=timeout_seconds,
                retries={"max_attempts": 1, "mode": "standard"},
            )
        )
    if settings.aws.endpoint_url:
        options["endpoint_url"] = settings.aws.endpoint_url
        config = config.merge(Config(s3={"addressing_style": "path"}))
        if not credentials_found:
            options.update(SIMULATED_CREDENTIALS)
    if timeout_seconds is not None or settings.aws.endpoint_url:
        options["config"] = config
    return options


def credentials_found() -> bool:
    """Whether boto3's credential chain (environment, profile, instance role) finds a key pair here."""
    import boto3

    return boto3.session.Session().get_credentials() is not None


def s3_client(settings: Settings, timeout_seconds: float | None = None) -> Any:
    """A boto3 S3 client for ``settings.aws`` (see ``s3_client_options`` for the rules)."""
    import boto3

    # Ask the credential chain only when it matters: against real AWS a missing key is boto3's own error.
    found = not settings.aws.endpoint_url or credentials_found()
    return boto3.client("s3", **s3_client_options(settings, found, timeout_seconds))


def emr_client(settings: Settings) -> Any:
    """A boto3 EMR client for ``settings.aws``: its region, and its endpoint and placeholder credentials under the
    rules of ``s3_client_options`` (the Airflow tasks use the provider's hook instead)."""
    import boto3

    found = not settings.aws.endpoint_url or credentials_found()
    options = s3_client_options(settings, found)
    options.pop("config", None)  # path-style addressing is S3's alone
    return boto3.client("emr", **options)

"""Annotator accounts and API tokens in the warehouse: argon2 password hashes, SHA-256 hashes of random tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from watchlake.errors import ConfigError
from watchlake.warehouse.tables import ANNOTATORS, API_TOKENS

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"annotator name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return name


def add_annotator(connection: Any, schema: str, name: str, password: str, now: datetime) -> None:
    """Create the account ``name``; ConfigError when it exists (a password is never replaced silently) or the
    password is shorter than 8 characters."""
    check_name(name)
    if len(password) < 8:
        raise ConfigError("the password must have at least 8 characters")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {schema}.{ANNOTATORS.name} (name, password_hash, created_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO NOTHING",
            (name, _HASHER.hash(password), now),
        )
        created = cursor.rowcount == 1
    connection.commit()
    if not created:
        raise ConfigError(f"annotator {name!r} exists already; choose another name")


def annotator_exists(connection: Any, schema: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {schema}.{ANNOTATORS.name} WHERE name = %s", (name,))
        return cursor.fetchone() is not None


def verify_password(connection: Any, schema: str, name: str, password: str) -> bool:
    """True when ``name`` exists and ``password`` is its password."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT password_hash FROM {schema}.{ANNOTATORS.name} WHERE name = %s", (name,))
        row = cursor.fetchone()
    try:
        return bool(_HASHER.verify(row[0] if row else _DUMMY_HASH, password)) and row is not None
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(connection: Any, schema: str, name: str, now: datetime) -> str:
    """A new bearer token of ``name`` (shown once: only its hash is stored)."""
    token = "wl_" + secrets.token_urlsafe(32)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {schema}.{API_TOKENS.name} (token_hash, annotator, created_at) VALUES (%s, %s, %s)",
            (token_hash(token), name, now),
        )
    connection.commit()
    return token


def annotator_of_token(connection: Any, schema: str, token: str) -> str | None:
    """The annotator a live (not revoked) token belongs to, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT annotator FROM {schema}.{API_TOKENS.name} WHERE token_hash = %s AND revoked_at IS NULL",
            (token_hash(token),),
        )
        row = cursor.fetchone()
    return row[0] if row else None

"""Checks of what a client submits (pure: a parsed JSON object or form in, a typed request or the first reason it
is refused out), in the order the reasons are tried. The HTTP status goes with the reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from watchlake.errors import AnnotationRefused

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class LabelRequest:
    label_id: str
    lease_id: str
    label: str
    note: str


@dataclass(frozen=True)
class UndoRequest:
    label_id: str  # the undo's own idempotency key
    note: str


def _text(body: dict[str, Any], field: str, *, required: bool = True) -> str:
    value = body.get(field)
    if value is None or value == "":
        if required:
            raise AnnotationRefused(422, f"missing field: {field}")
        return ""
    if not isinstance(value, str):
        raise AnnotationRefused(422, f"{field} must be a string, not {type(value).__name__}")
    return value


def _id(body: dict[str, Any], field: str) -> str:
    value = _text(body, field)
    if not ID_PATTERN.match(value):
        raise AnnotationRefused(422, f"{field} must be 8-64 letters, digits, '-' or '_' (a UUID will do)")
    return value


def _note(body: dict[str, Any], max_chars: int) -> str:
    note = _text(body, "note", required=False).strip()
    if len(note) > max_chars:
        raise AnnotationRefused(422, f"note is longer than {max_chars} characters")
    if any(ord(ch) < 32 and ch not in "\t\n" for ch in note):
        raise AnnotationRefused(422, "note holds control characters")
    return note


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise AnnotationRefused(422, "the body must be a JSON object")
    return body


def label_request(body: Any, max_note_chars: int) -> LabelRequest:
    """A label submission: ``label_id`` (new per submission), ``lease_id``, ``label`` (a class), ``note``."""
    body = _object(body)
    return LabelRequest(
        label_id=_id(body, "label_id"),
        lease_id=_id(body, "lease_id"),
        label=_text(body, "label"),
        note=_note(body, max_note_chars),
    )


def undo_request(body: Any, max_note_chars: int) -> UndoRequest:
    """An undo of the annotator's last label still in force: ``label_id`` (new per submission), ``note``."""
    body = _object(body)
    return UndoRequest(label_id=_id(body, "label_id"), note=_note(body, max_note_chars))

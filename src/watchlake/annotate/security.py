"""Session cookies and CSRF tokens of the annotation page: HMAC-SHA256 over the annotator, a random session id and
an expiry, with the service's secret (``annotate.session_secret``, else random per server start)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SESSION_COOKIE = "watchlake_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_CSRF_COOKIE = "watchlake_login_csrf"


@dataclass(frozen=True)
class Session:
    annotator: str
    session_id: str
    expires_at: datetime


class Signer:
    """Makes and checks session cookies and the CSRF tokens bound to them."""

    def __init__(self, secret: str, session_hours: float) -> None:
        self._key = (secret or secrets.token_hex(32)).encode()
        self.session_hours = session_hours

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def new_session(self, annotator: str, now: datetime) -> tuple[Session, str]:
        """A session and its cookie value."""
        session = Session(annotator, secrets.token_urlsafe(16), now + timedelta(hours=self.session_hours))
        body = f"{annotator}|{session.session_id}|{_epoch(session.expires_at)}"
        return session, f"{body}|{self._mac('session|' + body)}"

    def session_of(self, cookie: str | None, now: datetime) -> Session | None:
        """The session a cookie carries, or None (missing, forged, expired)."""
        if not cookie or cookie.count("|") != 3:
            return None
        annotator, session_id, expires, mac = cookie.split("|")
        body = f"{annotator}|{session_id}|{expires}"
        if not hmac.compare_digest(mac, self._mac("session|" + body)) or not expires.isdigit():
            return None
        if int(expires) <= _epoch(now):
            return None
        return Session(annotator, session_id, datetime.fromtimestamp(int(expires), UTC).replace(tzinfo=None))

    def csrf_token(self, session_id: str) -> str:
        return self._mac("csrf|" + session_id)

    def csrf_ok(self, session_id: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session_id))


def _epoch(naive_utc: datetime) -> int:
    return int(naive_utc.replace(tzinfo=UTC).timestamp())

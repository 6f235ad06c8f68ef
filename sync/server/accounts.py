"""Organizations and the people who sign in to the organizer's console: e-mail and password
(argon2id hashes), a role, sessions kept as the hash of a random cookie with a form token each.

Roles: `admin` runs the organization's events and its people; `staff` runs events; `viewer`
only looks; `enterprise` is an enterprise's own login and sees only that enterprise's figures
(matched by trade name, as the server's totals are). The console (`console_routes.py`), the
API and the CLI all go through these functions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from sync.protocol import PLAIN, _CONTROLS
from sync.server import tables as t
from sync.server.service import Refused

ROLES = ("admin", "staff", "viewer", "enterprise")
CAN_CHANGE = frozenset({"admin", "staff"})  # a viewer and an enterprise login only look
PASSWORD_MIN = 10
PASSWORD_MAX = 256  # argon2 takes any length; a 10 MB "password" is a way to burn CPU
SESSION_IDLE = 12 * 3600  # seconds without a request before a session is over
SESSION_MAX = 7 * 24 * 3600  # and at most this long after signing in
_EMAIL = re.compile(r"^[^@\s" + _CONTROLS + r"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


_DUMMY: list[str] = []  # a hash to check against when nobody has the e-mail: the same time


def _now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clean_email(email) -> str:
    """An e-mail address as stored and compared: trimmed, NFC, lowercased; refused (422) when
    it cannot be one."""
    if not isinstance(email, str):
        raise Refused(422, "an e-mail address is text", "email_invalid")
    email = unicodedata.normalize("NFC", email.strip()).lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Refused(422, f"not an e-mail address: {email[:60]!r}", "email_invalid")
    return email


def check_password(password) -> str:
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise Refused(422, f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters",
                      "password_invalid")
    if "\x00" in password:
        raise Refused(422, "a password has no NUL character", "password_invalid")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, read from a pipe
        raise Refused(422, "a password is UTF-8 text", "password_invalid") from None
    return password


_PLAIN = re.compile(PLAIN)


def clean_name(text, what: str) -> str:
    """An organization's or an enterprise's name: spaces collapsed, 1 to 200 characters, no
    control or direction character (the API's rule; a terminal listing it stays a terminal)."""
    name = " ".join(str(text or "").split())
    if not name or len(name) > 200 or not _PLAIN.match(name):
        raise Refused(422, f"{what} has a name of 1 to 200 characters, without control or "
                           "direction characters", "name_invalid")
    return name


# -- organizations -----------------------------------------------------------------------------

def add_organization(conn: Connection, *, name: str) -> str:
    name = clean_name(name, "an organization")
    oid = str(uuid.uuid4())
    try:
        with conn.begin_nested():
            conn.execute(t.organizations.insert().values(id=oid, name=name,
                                                         created_at=_now_text()))
    except IntegrityError:
        raise Refused(409, f"there is already an organization named {name[:60]!r}",
                      "organization_exists") from None
    return oid


def organization_by_name(conn: Connection, name: str) -> dict:
    row = conn.execute(select(t.organizations).where(
        t.organizations.c.name == " ".join(str(name or "").split()))).mappings().first()
    if row is None:
        raise Refused(404, f"no organization named {str(name)[:60]!r}", "organization_unknown")
    return dict(row)


def organizations(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(select(t.organizations)
                                          .order_by(t.organizations.c.name)).mappings()]


# -- people ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    id: str
    email: str
    organization_id: str
    organization: str
    role: str
    enterprise_name: str | None

    @property
    def can_change(self) -> bool:
        return self.role in CAN_CHANGE


def add_user(conn: Connection, *, email: str, organization: str, role: str, password: str,
             enterprise: str | None = None) -> str:
    """A person of `organization` (by name) with `role`; an `enterprise` login names its
    enterprise (its trade name) and sees only its figures."""
    email = clean_email(email)
    if role not in ROLES:
        raise Refused(422, f"a role is one of {', '.join(ROLES)}", "role_invalid")
    if (role == "enterprise") != bool(enterprise and str(enterprise).strip()):
        raise Refused(422, "an enterprise login names its enterprise (--enterprise), and only "
                           "it does", "enterprise_login")
    enterprise = clean_name(enterprise, "an enterprise") if enterprise is not None else None
    org = organization_by_name(conn, organization)
    hashed = _hasher().hash(check_password(password))
    uid = str(uuid.uuid4())
    try:
        with conn.begin_nested():
            conn.execute(t.users.insert().values(
                id=uid, email=email, organization_id=org["id"], role=role,
                enterprise_name=enterprise, password_hash=hashed, created_at=_now_text()))
    except IntegrityError:
        raise Refused(409, f"{email} already has an account", "user_exists") from None
    return uid


def set_password(conn: Connection, *, email: str, password: str) -> None:
    """A new password (an admin's reset, or the CLI's); every session of the person ends."""
    email = clean_email(email)
    hashed = _hasher().hash(check_password(password))
    row = conn.execute(select(t.users.c.id).where(t.users.c.email == email)).first()
    if row is None:
        raise Refused(404, f"no account for {email}", "user_unknown")
    conn.execute(t.users.update().where(t.users.c.id == row.id).values(password_hash=hashed))
    conn.execute(t.web_sessions.delete().where(t.web_sessions.c.user_id == row.id))


def users_of(conn: Connection, organization_id: str) -> list[dict]:
    u = t.users.c
    return [dict(r) for r in conn.execute(
        select(u.id, u.email, u.role, u.enterprise_name, u.created_at, u.disabled_at)
        .where(u.organization_id == organization_id).order_by(u.email)).mappings()]


def _user(conn: Connection, user_id: str) -> User | None:
    u, o = t.users.c, t.organizations.c
    row = conn.execute(select(u.id, u.email, u.organization_id, o.name, u.role,
                              u.enterprise_name, u.disabled_at)
                       .join(t.organizations, o.id == u.organization_id)
                       .where(u.id == user_id)).first()
    if row is None or row.disabled_at:
        return None
    return User(row.id, row.email, row.organization_id, row.name, row.role,
                row.enterprise_name)


def authenticate(conn: Connection, *, email, password) -> User | None:
    """The person with this e-mail and password, else None; as slow either way (a missing
    account is checked against a dummy hash), so timing says nothing of who has one."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    try:
        email = clean_email(email)
        password = check_password(password)
    except Refused:
        return None
    row = conn.execute(select(t.users.c.id, t.users.c.password_hash, t.users.c.disabled_at)
                       .where(t.users.c.email == email)).first()
    if row is None:
        if not _DUMMY:
            _DUMMY.append(hasher.hash(secrets.token_urlsafe(16)))
        try:
            hasher.verify(_DUMMY[0], password)
        except VerificationError:
            pass
        return None
    try:
        hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if row.disabled_at:
        return None
    if hasher.check_needs_rehash(row.password_hash):
        conn.execute(t.users.update().where(t.users.c.id == row.id)
                     .values(password_hash=hasher.hash(password)))
    return _user(conn, row.id)


# -- sessions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def start_session(conn: Connection, user: User, *, now: float | None = None) -> tuple[str, str]:
    """A new session: (cookie value, form token). Only the cookie's hash is kept."""
    now = int(now if now is not None else time.time())
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    conn.execute(t.web_sessions.insert().values(token_hash=_hash(token), user_id=user.id,
                                                csrf=csrf, created_at=now, seen_at=now))
    # sessions long over are dropped as people sign in
    conn.execute(t.web_sessions.delete().where(
        (t.web_sessions.c.seen_at < now - SESSION_IDLE)
        | (t.web_sessions.c.created_at < now - SESSION_MAX)))
    return token, csrf


def session_for(conn: Connection, token: str | None, *, now: float | None = None) -> Session | None:
    """The session of a cookie, still in force (used within `SESSION_IDLE`, begun within
    `SESSION_MAX`), else None."""
    if not token or len(token) > 100:
        return None
    now = int(now if now is not None else time.time())
    s = t.web_sessions.c
    row = conn.execute(select(s.user_id, s.csrf, s.created_at, s.seen_at)
                       .where(s.token_hash == _hash(token))).first()
    if row is None or row.seen_at < now - SESSION_IDLE or row.created_at < now - SESSION_MAX:
        return None
    user = _user(conn, row.user_id)
    if user is None:
        return None
    if now - row.seen_at > 60:  # not a write on every request
        conn.execute(t.web_sessions.update().where(s.token_hash == _hash(token))
                     .values(seen_at=now))
    return Session(user, row.csrf)


def end_session(conn: Connection, token: str | None) -> None:
    if token:
        conn.execute(t.web_sessions.delete().where(t.web_sessions.c.token_hash == _hash(token)))


def csrf_ok(session: Session, given) -> bool:
    return isinstance(given, str) and secrets.compare_digest(session.csrf.encode(),
                                                             given.encode()[:200])


def count_users(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(t.users)).scalar()

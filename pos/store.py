"""The local store: one SQLite file per data directory that never loses a confirmed sale.

- WAL journal with `synchronous=FULL`: a commit that returned survives a power cut.
- Every write transaction starts with `BEGIN IMMEDIATE`, so two writers never deadlock halfway.
- One process per data directory, by an OS lock on `jangteo.lock` that dies with the process.
- `PRAGMA quick_check` before anything else, with a message a vendor can act on.
- Alembic migrations at every start; a backup copy (SQLite backup API) before migrating.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, event, exc, select
from sqlalchemy.engine import Connection, Engine

from pos.clock import Clock, SystemClock
from pos.events import CommitHub, Committed
from pos.ids import uuid7
from pos import tables as t
from pos.errors import CodedError

DB_NAME = "jangteo.db"
LOCK_NAME = "jangteo.lock"
BACKUP_DIR = "backups"
MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(CodedError, RuntimeError):
    """A problem with the data directory. `code` keys the message in `pos.i18n`."""


def default_data_dir() -> Path:
    """`JANGTEO_DATA_DIR`, else the platform's user data directory."""
    env = os.environ.get("JANGTEO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("Jangteo", appauthor=False))


class DirectoryLock:
    """An exclusive OS lock on the data directory; released when the process ends, however."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def acquire(self) -> None:
        fh = open(self.path, "a+")
        try:
            if sys.platform == "win32":
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise StoreError("already_running", path=str(self.path.parent), pid=holder) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _translate(error: BaseException) -> StoreError | None:
    text = str(getattr(error, "orig", error)).lower()
    if "readonly" in text or "read-only" in text or "attempt to write a readonly" in text:
        return StoreError("read_only")
    if "disk is full" in text or "database or disk is full" in text:
        return StoreError("disk_full")
    if "database is locked" in text:
        return StoreError("locked")
    if "disk i/o error" in text:
        return StoreError("io_error")
    if "malformed" in text or "not a database" in text:
        return StoreError("corrupt", detail=str(getattr(error, "orig", error)))
    return None


def make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def quick_check(path: Path) -> None:
    """Raise `StoreError('corrupt')` unless SQLite's quick check says ok."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise StoreError("corrupt", path=str(path), detail=str(e)) from e
    if rows != [("ok",)]:
        detail = "; ".join(r[0] for r in rows[:5])
        raise StoreError("corrupt", path=str(path), detail=detail)


def backup(path: Path, dest_dir: Path, label: str, when: datetime) -> Path:
    """A checked, compressed copy of the live database (`pos.backups.backup`)."""
    from pos.backups import backup as checked_backup  # imported here: pos.backups uses this module

    return checked_backup(path, dest_dir, label, when)


def _alembic_config(connection: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, path: Path, backup_dir: Path, clock: Clock) -> str | None:
    """Bring the schema to the newest revision; back up first when there is data to protect.
    Returns the backup's path, if one was taken."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if current == head:
        return None
    taken = None
    if current is not None:
        taken = str(backup(path, backup_dir, f"before-{head}", clock.now()))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    return taken


class Store:
    """An open data directory. Use as a context manager, or call `close()`."""

    def __init__(self, data_dir: Path | str, *, clock: Clock | None = None,
                 random_bytes: Callable[[int], bytes] | None = None, device_code: str = "A01"):
        self.data_dir = Path(data_dir)
        self.clock = clock or SystemClock()
        self._random = random_bytes or os.urandom
        self.path = self.data_dir / DB_NAME
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError("data_dir_unusable", path=str(self.data_dir), detail=str(e)) from e
        self._lock = DirectoryLock(self.data_dir / LOCK_NAME)
        self.write_lock = threading.RLock()  # write transactions of this process, one at a time
        self.cache: dict = {}  # read-mostly settings, cleared whenever a setting is written
        self.hub = CommitHub()  # who hears what each committed transaction changed
        self._lock.acquire()
        try:
            if self.path.exists() and self.path.stat().st_size > 0:
                quick_check(self.path)
            self.engine = make_engine(self.path)
            try:
                self.migration_backup = migrate(self.engine, self.path,
                                                self.data_dir / BACKUP_DIR, self.clock)
            except exc.DBAPIError as e:
                raise (_translate(e) or e) from e
            with self.unit_of_work() as uow:
                self.device = _ensure_device(uow, device_code)
                uow.commit()
            from pos.numbering import Numbering

            self.numbering = Numbering(self.device["id"], self.device["code"])
        except BaseException:
            self._lock.release()
            raise

    def new_id(self, when: datetime | None = None) -> str:
        return str(uuid7(when or self.clock.now(), self._random(10)))

    def unit_of_work(self, *, write: bool = True) -> "UnitOfWork":
        return UnitOfWork(self, write=write)

    def close(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()
        self._lock.release()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class UnitOfWork:
    """One transaction: `commit()` explicitly; leaving the block without it rolls back.

    SQLite errors that a vendor can act on (read-only file, full disk, locked) come out as
    `StoreError` with a code that `pos.i18n` turns into a sentence.
    """

    def __init__(self, store: Store, *, write: bool = True):
        self.store = store
        self.write = write
        self.conn: Connection
        self._committed = False
        self._after_commit: list[Callable[[], None]] = []
        self._holds_write_lock = False
        self._topics: set[str] = set()
        self._documents: list = []

    @property
    def clock(self) -> Clock:
        return self.store.clock

    def new_id(self, when: datetime | None = None) -> str:
        return self.store.new_id(when)

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the transaction has committed (never after a rollback)."""
        self._after_commit.append(action)

    def note(self, topic: str, document=None) -> None:
        """Say what this transaction changed (`pos.events`); the store's hub tells its
        listeners once the transaction has committed and the write lock is free."""
        self._topics.add(topic)
        if document is not None:
            self._documents.append(document)

    def __enter__(self) -> "UnitOfWork":
        if self.write:
            self.store.write_lock.acquire()
            self._holds_write_lock = True
        try:
            conn = self.store.engine.connect()
            if not self.write:
                conn = conn.execution_options(sqlite_begin="DEFERRED")
            self.conn = conn
            self._tx = conn.begin()
        except BaseException as e:
            self._release()
            if isinstance(e, exc.DBAPIError):
                raise (_translate(e) or e) from e
            raise
        return self

    def _release(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            self.store.write_lock.release()

    def commit(self) -> None:
        try:
            self._tx.commit()
        except exc.DBAPIError as e:
            raise (_translate(e) or e) from e
        self._committed = True
        for action in self._after_commit:
            action()
        self._after_commit.clear()

    def __exit__(self, exc_type, exc_value, tb):
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()
            self._release()
        if self._committed and self._topics:
            topics, self._topics = frozenset(self._topics), set()
            documents, self._documents = tuple(self._documents), []
            self.store.hub.publish(Committed(topics, documents))
        if isinstance(exc_value, exc.DBAPIError):
            translated = _translate(exc_value)
            if translated is not None:
                raise translated from exc_value
        return False


def _ensure_device(uow: UnitOfWork, code: str) -> dict:
    row = uow.conn.execute(select(t.device)).mappings().first()
    if row is None:
        now = uow.clock.now()
        row = {"id": uow.new_id(now), "code": code, "name": "", "created_at": now.isoformat(),
               "last_hlc": None}
        uow.conn.execute(t.device.insert().values(**row))
    return dict(row)

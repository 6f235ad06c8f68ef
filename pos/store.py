"""The local store: one SQLite file per data directory that never loses a confirmed sale.

- WAL journal with `synchronous=FULL`: a commit that returned survives a power cut.
- Every write transaction starts with `BEGIN IMMEDIATE`, so two writers never deadlock halfway.
- One process per data directory, by an OS lock on `jangteo.lock` that dies with the process;
  commands that only read may open the file read-only beside it (or on a read-only medium).
- `PRAGMA quick_check` at start unless the file is exactly as a clean close left it; only
  SQLite's own "damaged" is called damage — a full disk, a read-only medium and an I/O error
  each get their own sentence (`classify`), because restoring a backup over a good file loses
  every sale since that backup.
- Alembic migrations at every start; a backup copy before a migration that will really run;
  data written by a newer Jangteo is refused by its version, before anything is written.
- Before every commit, the file at the data folder's path must still be the file this store
  writes (`Store.in_place`): a folder deleted or a stick pulled under the till refuses the
  sale and saves what the open file still holds (`Store.lost`).
- High-water marks of the receipt numbers, outside the database (`pos.marks`), give a store
  that lost sales numbering floors, so no receipt number a customer holds is given twice.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, event, exc, func, select
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
        try:
            fh = open(self.path, "a+")
        except OSError as e:
            raise classify(e, self.path.parent, at_start=True) from e
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
            holder = fh.read().strip()[:20] or "?"
            fh.close()
            raise StoreError("already_running", path=str(self.path.parent), pid=holder) from None
        try:  # who holds it, for the message a second copy shows; a full disk may refuse it
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
        except OSError:
            pass
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


LOW_SPACE = 16 * 1024 * 1024  # below this, an I/O error of SQLite is taken for a full disk


def _existing(path: Path) -> Path:
    while path.parent != path:
        try:
            if path.exists():
                break
        except OSError:  # a name too long, a file where a folder should be
            pass
        path = path.parent
    return path


def folder_read_only(folder: Path) -> bool:
    """The folder's medium is mounted read-only, or this process may not write in it."""
    where = _existing(Path(folder))
    try:
        if hasattr(os, "statvfs") and os.statvfs(where).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        pass
    return not os.access(where, os.W_OK)


def free_space(folder: Path) -> int | None:
    import shutil

    try:
        return shutil.disk_usage(_existing(Path(folder))).free
    except OSError:
        return None


def error_kind(error: BaseException) -> str | None:
    """"full", "read_only", "locked", "corrupt" or "io" for an SQLite or OS error, by SQLite's
    error name or the OS errno (then SQLite's words), else None. Shared by the store's
    sentences (`classify`) and the backups' (`pos.backups`)."""
    import errno

    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    number = error.errno if isinstance(error, OSError) else None
    if number in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG) \
            or name == "SQLITE_FULL" or "disk is full" in text:
        return "full"
    if number in (errno.EROFS, errno.EACCES, errno.EPERM) or name.startswith("SQLITE_READONLY") \
            or "readonly" in text or "read-only" in text:
        return "read_only"
    if name.startswith("SQLITE_BUSY") or "database is locked" in text:
        return "locked"
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in text \
            or "not a database" in text:
        return "corrupt"
    if number == errno.EIO or name.startswith("SQLITE_IOERR") or "i/o error" in text:
        return "io"
    return None


def classify(error: BaseException, data_dir: Path | None = None, *,
             at_start: bool = False) -> StoreError | None:
    """The vendor's sentence for an SQLite or OS error, or None when it is none of ours.

    Only a file SQLite itself calls damaged (SQLITE_CORRUPT, SQLITE_NOTADB) is "damaged": a
    full disk, a read-only medium and an I/O error are told apart (by SQLite's error name, the
    OS errno, then the folder's state), because the advice for damage — restore a backup —
    would throw away every sale since that backup on a file that is fine. At start the
    sentences say that nothing was lost rather than "the last action was not saved"."""
    import errno

    orig = getattr(error, "orig", None) or error
    if isinstance(orig, StoreError):
        return orig
    kind = error_kind(orig)
    number = orig.errno if isinstance(orig, OSError) else None
    if kind is None and number not in (errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR,
                                       errno.ENOENT, errno.ELOOP):  # a path that cannot be
        name = getattr(orig, "sqlite_errorname", "") or ""
        if number is not None or name.startswith("SQLITE_CANTOPEN") \
                or "unable to open" in str(orig).lower():
            kind = "io"  # told apart below by the folder's state
    if kind == "io" and data_dir is not None:  # SQLite says I/O for what the folder explains
        free = free_space(data_dir)
        if free is not None and free < LOW_SPACE:
            kind = "full"
        elif folder_read_only(data_dir):
            kind = "read_only"
    path = str(data_dir) if data_dir is not None else ""
    detail = str(orig)[:300]
    if kind == "corrupt":
        return StoreError("corrupt", path=path, detail=detail)
    if kind == "locked":
        return StoreError("locked")
    if kind is None:
        return StoreError("data_dir_unusable", path=path, detail=detail) if at_start else None
    if at_start:
        code = {"full": "start_disk_full", "read_only": "folder_read_only",
                "io": "start_io_error"}[kind]
        free = free_space(data_dir) if data_dir is not None else None
        return StoreError(code, path=path, detail=detail,
                          free=f"{(free or 0) / 1024 / 1024:.1f} MB")
    return StoreError({"full": "disk_full", "read_only": "read_only", "io": "io_error"}[kind])


def ro_connect(path: Path) -> sqlite3.Connection:
    """A read-only connection that works on a read-only medium or a full disk too: `mode=ro`
    needs to create the WAL's shared-memory file, which such a folder refuses; then the file
    is opened as immutable (nobody can be writing it there) — unless a journal with sales in
    it is beside the file, which an immutable open would not read."""
    uri = Path(path).resolve().as_uri()
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
        con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError as e:
        folder = Path(path).parent
        low = (free_space(folder) or 0) < LOW_SPACE
        if not (folder_read_only(folder) or low):
            raise
        wal = Path(str(path) + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            # an immutable open would not read the journal: its sales would be silently
            # missing from a check or an export
            raise StoreError("journal_unreadable", path=str(folder)) from e
        first = e
    try:
        con = sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False)
        con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.Error:
        raise first from None


def make_engine(path: Path, *, read_only: bool = False) -> Engine:
    # the connection is made by `creator`, never from a URL: a folder named "stall?1" would
    # otherwise put its database in "stall" with "1" as URL options, shared with "stall?2"
    if read_only:
        def creator():
            return ro_connect(path)
    else:
        def creator():
            return sqlite3.connect(str(path), check_same_thread=False)
    from sqlalchemy.pool import QueuePool

    engine = create_engine("sqlite://", future=True, creator=creator, poolclass=QueuePool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=5000")
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        mode = "DEFERRED" if read_only else conn.get_execution_options().get(
            "sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def quick_check(path: Path) -> None:
    """Raise a `StoreError` unless SQLite's quick check says ok: "corrupt" only for damage."""
    try:
        con = ro_connect(path)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        raise classify(e, Path(path).parent, at_start=True) from e
    if rows != [("ok",)]:
        detail = "; ".join(str(r[0]) for r in rows[:5])
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


def _written_by(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT value FROM store_meta WHERE key = 'written_by'").scalar()
    except exc.DBAPIError:
        return None  # written before store_meta existed


def migrate(engine: Engine, path: Path, backup_dir: Path, clock: Clock) -> str | None:
    """Bring the schema to the newest revision; back up first when there is data to protect
    and a migration will really run. Data written by a newer Jangteo (a revision this build
    does not know) is refused before anything is written. Returns the backup's path, if any."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if current == head:
        return None
    if current is not None and current not in {r.revision for r in script.walk_revisions()}:
        from pos import __version__

        raise StoreError("newer_data", path=str(path.parent),
                         version=_written_by(engine) or "?", ours=__version__)
    taken = None
    if current is not None:
        taken = str(backup(path, backup_dir, f"before-{head}", clock.now()))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    return taken


CLEAN_NAME = "jangteo.clean"  # the file's identity when it was last closed cleanly
RESCUED_DIR = "rescued"


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _fingerprint(path: Path) -> dict | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


class Store:
    """An open data directory. Use as a context manager, or call `close()`.

    `read_only=True` opens an existing store without its lock, migrations or any write: for
    the commands that only read (check, exports) on a read-only medium or beside a running
    till. `notes` holds what the vendor must hear at this start (receipts the store lacks, a
    former store that is gone), as coded errors for `pos.i18n.error_text`.
    """

    def __init__(self, data_dir: Path | str, *, clock: Clock | None = None,
                 random_bytes: Callable[[int], bytes] | None = None, device_code: str = "A01",
                 read_only: bool = False):
        self.data_dir = Path(data_dir)
        self.clock = clock or SystemClock()
        self._random = random_bytes or os.urandom
        self.path = self.data_dir / DB_NAME
        self.read_only = read_only
        self.gone: StoreError | None = None  # set once the file under the till went away
        self.actor = None  # the staff member signed in (pos.services.staff), with accounts on
        self.approver = None  # a manager approving for the whole process (`jangteo --approver`)
        self.notes: list[CodedError] = []
        self.migration_backup = None
        self.write_lock = threading.RLock()  # write transactions of this process, one at a time
        self.cache: dict = {}  # read-mostly settings, cleared whenever a setting is written
        self.hub = CommitHub()  # who hears what each committed transaction changed
        self._lock = DirectoryLock(self.data_dir / LOCK_NAME)
        self._mark = None
        self._mark_files = None
        self._identity = None
        self._wal = str(self.path) + "-wal"
        if read_only:
            self._open_read_only()
        else:
            self._open_writable(device_code)
        from pos.numbering import Numbering

        self.numbering = Numbering(self.device["id"], self.device["code"])
        try:
            with self.unit_of_work(write=False) as uow:
                now = self.clock.now()
                behind = self.numbering.clock_behind(uow, now)
        except BaseException:
            self.close()
            raise
        if behind is not None:
            self.notes.append(CodedError("clock_behind", now=now.strftime("%Y-%m-%d %H:%M"),
                                         newest=behind.strftime("%Y-%m-%d %H:%M")))

    # -- opening ---------------------------------------------------------------------------

    def _open_writable(self, device_code: str) -> None:
        from pos import marks

        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise (classify(e, self.data_dir, at_start=True)
                   or StoreError("data_dir_unusable", path=str(self.data_dir), detail=str(e))) from e
        self._lock.acquire()
        try:
            found = marks.read_marks(self.data_dir)
            self._check_file(found)
            self.engine = make_engine(self.path)
            try:
                self.migration_backup = migrate(self.engine, self.path,
                                                self.data_dir / BACKUP_DIR, self.clock)
                self._identity = _identity(self.path)
                if found:
                    device_code = found[0].device_code
                with self.unit_of_work() as uow:
                    self.device = _ensure_device(uow, device_code)
                    # the store's own mark: a copy of this folder used from elsewhere
                    own = [m for m in marks.read_marks(self.data_dir, self.device["id"])
                           if m.store_id == self.device["id"]
                           and m.data_dir not in ("", str(self.data_dir))]
                    found += own
                    self.notes += _reconcile(uow, self.device, found,
                                             elsewhere={id(m): m.data_dir for m in own})
                    _write_meta(uow)
                    self._mark = _starting_mark(uow, self.device, found)
                    uow.commit()
            except (exc.DBAPIError, sqlite3.Error, OSError) as e:
                raise classify(e, self.data_dir, at_start=True) from e
            except StoreError as e:
                raise _at_start(e, self.data_dir) from e
            marks.write_marks(self.data_dir, self._mark)
            self._catch_up_backup()
            try:
                (self.data_dir / CLEAN_NAME).unlink(missing_ok=True)
            except OSError:
                pass
        except BaseException:
            engine = getattr(self, "engine", None)
            if engine is not None:
                engine.dispose()
            self._lock.release()
            raise

    def _catch_up_backup(self) -> None:
        """The newest closed shift has its backup: a close whose backup was cut short (the
        app killed while it was written, a full disk) gets one now; one that still cannot be
        written is said at every start until it can."""
        from pos.backups import list_backups

        with self.engine.connect() as conn:
            number = conn.execute(select(t.shifts.c.number).where(
                t.shifts.c.device_id == self.device["id"], t.shifts.c.status == "closed")
                .order_by(t.shifts.c.number.desc()).limit(1)).scalar()
            conn.rollback()
        if number is None:
            return
        folder = self.data_dir / BACKUP_DIR
        if any(b.kind == "close" and b.number == number and b.size > 0
               for b in list_backups(folder)):
            return
        try:
            backup(self.path, folder, f"shift-{number}", self.clock.now())
        except StoreError as e:
            self.notes.append(CodedError("close_backup_missing", number=number,
                                         reason=e.code, detail=e.params.get("detail", "")))

    def _open_read_only(self) -> None:
        if not self.path.is_file() or self.path.stat().st_size == 0:
            raise StoreError("no_store_here", path=str(self.data_dir))
        self._check_file([])
        self.engine = make_engine(self.path, read_only=True)
        try:
            from alembic.runtime.migration import MigrationContext
            from alembic.script import ScriptDirectory

            with self.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
            if current != head:
                known = {r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
                if current in known:
                    raise StoreError("needs_upgrade", path=str(self.data_dir))
                from pos import __version__

                raise StoreError("newer_data", path=str(self.data_dir),
                                 version=_written_by(self.engine) or "?", ours=__version__)
            with self.engine.connect() as conn:
                row = conn.execute(select(t.device)).mappings().first()
                conn.rollback()
            if row is None:
                raise StoreError("no_store_here", path=str(self.data_dir))
            self.device = dict(row)
        except (exc.DBAPIError, sqlite3.Error, OSError) as e:
            self.engine.dispose()
            raise classify(e, self.data_dir, at_start=True) from e
        except BaseException:
            self.engine.dispose()
            raise

    def _had_store(self, found_marks) -> bool:
        """Whether this folder held a store before (so an empty file here is damage)."""
        if found_marks:
            return True
        wal = self.path.with_name(DB_NAME + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return True
        return self._has_backups()

    def _has_backups(self) -> bool:
        folder = self.data_dir / BACKUP_DIR
        return folder.is_dir() and any(folder.glob("jangteo-*"))

    def _check_file(self, found_marks) -> None:
        """Damage, an empty file where a store was, or a missing file beside its journal, are
        refused before SQLite touches the file. The full quick check is skipped when the file
        is exactly as this program left it at a clean close (a big store starts fast);
        `jangteo check` reads every page."""
        if not self.path.exists():
            # a folder that still shows a store (its journal, its mark, its backups) lost only
            # its file: that is damage, not a new store; a folder deleted whole starts anew
            # (its numbering floors come from the mark kept outside it)
            from pos.marks import MARK_NAME

            if self.path.with_name(DB_NAME + "-wal").exists() \
                    or (self.data_dir / MARK_NAME).exists() or self._has_backups():
                raise StoreError("empty_store_file", path=str(self.path))
            return
        if self.path.stat().st_size == 0:
            if self._had_store(found_marks):
                raise StoreError("empty_store_file", path=str(self.path))
            return
        if self._clean_since_last_close():
            return
        quick_check(self.path)

    def _clean_since_last_close(self) -> bool:
        import json

        wal = self.path.with_name(DB_NAME + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return False
        try:
            kept = json.loads((self.data_dir / CLEAN_NAME).read_text("utf-8"))
        except (OSError, ValueError):
            return False
        return kept == _fingerprint(self.path)

    # -- the file under the till -----------------------------------------------------------

    def in_place(self) -> bool:
        """The file at the data folder's path is still the one this store writes, and its
        journal is still beside it (SQLite never removes the WAL while a connection is open:
        a missing one was deleted, and the sales in it would die with this process)."""
        return _identity(self.path) == self._identity and os.path.exists(self._wal)

    def lost(self, uow: "UnitOfWork") -> StoreError:
        """The data file was deleted, replaced or its drive removed while the till ran: save
        what the open connection can still read, refuse every later write, and say where the
        copy went. Called once; later writes get the same error."""
        if self.gone is not None:
            return self.gone
        rescued, count = self._rescue(uow)
        if rescued is None:
            self.gone = StoreError("store_gone_unsaved", path=str(self.path))
        elif rescued == self.path:
            self.gone = StoreError("store_gone", path=str(self.path), copy=str(rescued),
                                   count=count)
        else:  # beside a replaced file, or on this computer: restore puts it back
            self.gone = StoreError("store_gone_copy", path=str(self.path), copy=str(rescued),
                                   count=count)
        return self.gone

    def _rescue(self, uow: "UnitOfWork") -> tuple[Path | None, int]:
        from pos import marks

        raw = uow.conn.connection.dbapi_connection
        if _identity(self.path) == self._identity:
            # only the journal was deleted: the file in place takes what the open journal
            # still holds (a checkpoint reads it through SQLite's open handle)
            try:
                busy, frames, done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy == 0 and frames == done:
                    return self.path, raw.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
            except sqlite3.Error:
                pass
        when = self.clock.now()
        if not self.data_dir.exists() and self.data_dir.parent.exists():
            target = self.path  # the folder was deleted: put the store back where it was
        elif self.data_dir.is_dir():
            target = self.data_dir / RESCUED_DIR / f"jangteo-{when:%Y%m%d-%H%M%S}-rescued.db"
        else:  # the drive itself is gone: the state folder on this computer
            target = marks.state_dir() / RESCUED_DIR / f"jangteo-{when:%Y%m%d-%H%M%S}-rescued.db"
        tmp = target.with_name(target.name + ".tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            out = sqlite3.connect(tmp)
            try:
                raw.backup(out)
                count = out.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
                ok = out.execute("PRAGMA quick_check").fetchall() == [("ok",)]
            finally:
                out.close()
            if not ok:
                raise sqlite3.DatabaseError("the copy does not check")
            os.replace(tmp, target)
        except (OSError, sqlite3.Error):
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            return None, 0
        if target == self.path and self._mark is not None:
            marks.write_marks(self.data_dir, self._mark)
        return target, count

    def confirmed(self, seq: int, day: str | None, n: int | None) -> None:
        """A committed transaction took these numbers: move the high-water marks."""
        if self._mark is None:
            return
        from pos import marks

        self._mark.confirm(seq, day, n)
        if self._mark_files is None:
            self._mark_files = marks.MarkFiles(self.data_dir, self.device["id"])
        self._mark_files.write(self._mark)

    def take_device_code(self, code: str) -> bool:
        """The device code the organizer's server gave this till at enrollment: its receipt
        numbers and clock stamps use it from the next document on (the receipts before keep
        theirs; the day's count goes on, so no number is given twice). False: it had it."""
        from pos import events, marks
        from pos.ids import DEVICE_CODE

        if not DEVICE_CODE.match(code):
            raise ValueError(f"bad device code {code!r}")
        with self.unit_of_work() as uow:  # the write lock: no document is numbered meanwhile
            if self.device["code"] == code:
                return False
            uow.conn.execute(t.device.update().where(t.device.c.id == self.device["id"])
                             .values(code=code))
            uow.note(events.SETTINGS)  # the status bar's next receipt number changes
            uow.commit()
            self.device = {**self.device, "code": code}
            self.numbering.device_code = code
            if self._mark is not None:
                self._mark.device_code = code
                if self._mark_files is None:
                    self._mark_files = marks.MarkFiles(self.data_dir, self.device["id"])
                for _slot in range(2):  # both slots: a mark read back has one device code
                    self._mark_files.write(self._mark)
        return True

    def confirmed_shift(self, number: int) -> None:
        """A shift with this number was opened and committed: the marks keep it."""
        if self._mark is None or number <= self._mark.shift:
            return
        from pos import marks

        self._mark.shift = number
        if self._mark_files is None:
            self._mark_files = marks.MarkFiles(self.data_dir, self.device["id"])
        self._mark_files.write(self._mark)

    def new_id(self, when: datetime | None = None) -> str:
        return str(uuid7(when or self.clock.now(), self._random(10)))

    def unit_of_work(self, *, write: bool = True) -> "UnitOfWork":
        return UnitOfWork(self, write=write)

    def close(self) -> None:
        if self._mark_files is not None:
            self._mark_files.close()
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()
            if not self.read_only and self.gone is None:
                self._note_clean_close()
        self._lock.release()

    def _note_clean_close(self) -> None:
        import json

        wal = self.path.with_name(DB_NAME + "-wal")
        fingerprint = _fingerprint(self.path)
        if fingerprint is None or (wal.exists() and wal.stat().st_size > 0) \
                or _identity(self.path) != self._identity:
            return
        tmp = self.data_dir / (CLEAN_NAME + ".tmp")
        try:
            tmp.write_text(json.dumps(fingerprint), "utf-8")
            os.replace(tmp, self.data_dir / CLEAN_NAME)
        except OSError:
            pass

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _at_start(error: StoreError, data_dir: Path) -> StoreError:
    """A runtime sentence ("the last action was not saved") turned into its start form."""
    code = {"disk_full": "start_disk_full", "read_only": "folder_read_only",
            "io_error": "start_io_error"}.get(error.code)
    if code is None:
        return error
    free = free_space(data_dir)
    return StoreError(code, path=str(data_dir), detail=error.code,
                      free=f"{(free or 0) / 1024 / 1024:.1f} MB")


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
        # a manager who approved what this transaction does (staff.need): the store's for the
        # command line, or one the GUI sets after a manager typed their PIN
        self.approver = store.approver

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
            if self.store.read_only:
                raise StoreError("folder_read_only", path=str(self.store.data_dir), detail="",
                                 free="")
            if self.store.gone is not None:
                raise self.store.gone
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
                raise (classify(e, self.store.data_dir) or e) from e
            raise
        return self

    def _release(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            self.store.write_lock.release()

    def commit(self) -> None:
        if self.write and not self.store.in_place():
            # the folder was deleted, the file replaced or its stick pulled: a commit now would
            # go into a file nobody will ever open again
            self._tx.rollback()
            raise self.store.lost(self)
        try:
            self._tx.commit()
        except exc.DBAPIError as e:
            raise (classify(e, self.store.data_dir) or e) from e
        self._committed = True
        numbers = getattr(self, "_numbering", None)
        if numbers is not None:
            self.store.confirmed(numbers.seq, numbers.day, numbers.day_n if numbers.day else None)
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
            translated = classify(exc_value, self.store.data_dir)
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


def _write_meta(uow: UnitOfWork) -> None:
    from pos import __version__

    written = uow.conn.execute(select(t.store_meta.c.value).where(
        t.store_meta.c.key == "written_by")).scalar()
    if written != __version__:
        uow.conn.execute(t.store_meta.delete().where(t.store_meta.c.key == "written_by"))
        uow.conn.execute(t.store_meta.insert().values(key="written_by", value=__version__))


def _reconcile(uow: UnitOfWork, device: dict, found, elsewhere=None) -> list[CodedError]:
    """Receipt numbers a mark of this device code saw confirmed but the store lacks (its file
    was cut or restored, or a former store here is gone) become numbering floors: the next
    receipt of that day goes on after them. Returns what the vendor must be told."""
    from pos.ids import receipt_no
    from pos.numbering import day_high

    notes: dict[str, CodedError] = {}
    shifts = max((m.shift for m in found if m.device_code == device["code"]), default=0)
    have = uow.conn.execute(select(func.max(t.shifts.c.number)).where(
        t.shifts.c.device_id == device["id"])).scalar() or 0
    floor = int(uow.conn.execute(select(t.store_meta.c.value).where(
        t.store_meta.c.key == "shift_floor")).scalar() or 0)
    if shifts > max(have, floor):  # shifts a lost or restored file had: never numbered again
        uow.conn.execute(t.store_meta.delete().where(t.store_meta.c.key == "shift_floor"))
        uow.conn.execute(t.store_meta.insert().values(key="shift_floor", value=str(shifts)))
    sold = uow.conn.execute(select(t.sales.c.id).where(
        t.sales.c.device_id == device["id"]).limit(1)).first() is not None
    for mark in found:
        if mark.device_code != device["code"]:
            continue
        own = mark.store_id == device["id"]
        there = (elsewhere or {}).get(id(mark))  # this store, used from another folder
        taken = [(day, n, own) for day, n in mark.days.items()]
        taken += [(day, n, False) for day, n in mark.inherited.items()]
        for day, last, mine in sorted(taken):
            have = day_high(uow.conn, device["id"], day)
            if last <= have:
                continue
            # missing: this store's own receipts, lost from its file; lost: another store's,
            # and this one is new (that store is gone); other: another store's, and this one
            # has sales of its own (folders swapped or copied over)
            reason = ("elsewhere" if there else "missing") if mine else \
                ("other" if sold else "lost")
            uow.conn.execute(t.receipt_floors.delete().where(
                t.receipt_floors.c.device_id == device["id"],
                t.receipt_floors.c.business_day == day))
            uow.conn.execute(t.receipt_floors.insert().values(
                device_id=device["id"], business_day=day, last_n=last, reason=reason,
                created_at=uow.clock.now().isoformat()))
            the_day = datetime.strptime(day, "%Y-%m-%d").date()
            first_no = receipt_no(device["code"], the_day, have + 1)
            last_no = receipt_no(device["code"], the_day, last)
            if reason == "elsewhere":
                notes[day] = CodedError("store_used_elsewhere", other=there, first=first_no,
                                        last=last_no)
            elif reason == "missing":
                notes[day] = (CodedError("receipt_missing_one", receipt=last_no)
                              if first_no == last_no else
                              CodedError("receipts_missing", first=first_no, last=last_no))
            elif reason == "other":
                notes[day] = CodedError("another_store_here", last=last_no)
            else:
                copy = _rescued_copy_of(mark.store_id)
                notes[day] = (CodedError("former_store_lost_rescued", last=last_no,
                                         copy=str(copy))
                              if copy else CodedError("former_store_lost", last=last_no))
    return list(notes.values())


def _rescued_copy_of(store_id: str) -> Path | None:
    """The newest copy `Store.lost` saved on this computer of the store `store_id`."""
    from pos.marks import state_dir

    folder = state_dir() / RESCUED_DIR
    try:
        copies = sorted(folder.glob("jangteo-*-rescued.db"), reverse=True)
    except OSError:
        return None
    for copy in copies[:20]:
        try:
            con = ro_connect(copy)
            try:
                ids = {r[0] for r in con.execute("SELECT id FROM device")}
            finally:
                con.close()
        except (sqlite3.Error, OSError, StoreError):
            continue
        if store_id in ids:
            return copy
    return None


def _starting_mark(uow: UnitOfWork, device: dict, found):
    """This store's mark: what the marks found said of its device code, and its own newest."""
    from pos.marks import Mark
    from pos.numbering import day_high

    mark = Mark(device["id"], device["code"])
    mark.shift = max([m.shift for m in found if m.device_code == device["code"]]
                     + [uow.conn.execute(select(func.max(t.shifts.c.number)).where(
                         t.shifts.c.device_id == device["id"])).scalar() or 0])
    for other in found:
        if other.device_code == device["code"]:
            for day, n in other.inherited.items():
                mark.inherit(day, n)
            for day, n in other.days.items():
                if other.store_id == device["id"]:
                    mark.confirm(0, day, n)
                else:
                    mark.inherit(day, n)
            if other.store_id == device["id"]:
                mark.seq = max(mark.seq, other.seq)
    newest = uow.conn.execute(select(t.sales.c.business_day).where(
        t.sales.c.device_id == device["id"]).order_by(t.sales.c.business_day.desc())
        .limit(1)).scalar()
    if newest is not None:
        mark.confirm(0, newest, day_high(uow.conn, device["id"], newest))
    seq = uow.conn.execute(select(t.outbox.c.seq).where(
        t.outbox.c.device_id == device["id"]).order_by(t.outbox.c.seq.desc()).limit(1)).scalar()
    mark.seq = max(mark.seq, seq or 0)
    return mark

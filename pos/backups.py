"""Backup copies of the data file, and putting one back.

A backup is written in steps so that a file in `backups/` is always a whole, checked copy:

1. SQLite's backup API copies the live database (consistent even in WAL mode) into a
   temporary file in `backups/` (`.partial-…`), and `PRAGMA quick_check` reads the copy back;
2. the copy is gzip-compressed into a second temporary file, which is fsynced;
3. that file is renamed to its final name, `jangteo-YYYYMMDD-HHMMSS-LABEL.db.gz`, and the
   folder is fsynced.

Any failure removes the temporaries and raises a `StoreError` whose code says why in words (a
full disk, a read-only folder, a disk error); temporaries a crash left are removed by the next
backup. Labels say what the copy was taken before or after: `shift-N` after closing shift N,
`before-REV` before migrating to revision REV. Keeping them (`prune`) goes by kind, so copies
of one kind never push out those of another.

`restore` puts a backup back as `jangteo.db`. The file it replaces is moved aside into
`replaced/`, never deleted, and the result says how many receipts it had that the backup lacks.
The restored file remembers those receipts with the numbers of their events (`lost_receipts`):
once the organizer's server is known to hold those events (`sync.client`), `jangteo check`
counts the receipts as the server's, not as lost.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
import sqlite3
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pos.store import BACKUP_DIR, DB_NAME, LOCK_NAME, DirectoryLock, StoreError, error_kind

log = logging.getLogger("jangteo.backups")

# gzip at level 1. Measured on a demo store of 20,000 sales (a 38 MB file) on this repository's
# machine, best of 3: level 1 took 0.25 s for 8.4 MB (4.5x smaller), level 6 0.54 s for 7.2 MB
# (5.2x), xz preset 0 0.84 s for 4.9 MB (7.8x). A close waits for its backup, and pruning
# already bounds how many are kept, so the fastest level wins; gzip opens anywhere.
COMPRESS_LEVEL = 1
SUFFIX = ".db.gz"  # uncompressed `.db` copies from older versions are listed, kept, restorable
TEMP_PREFIX = ".partial-"
REPLACED_DIR = "replaced"

# What is kept (README "Backups"):
# - each of the seven newest days that have a shift-close copy keeps its newest one, so a
#   mistake noticed at a later market (a wrong import, a bad count) can still be undone to any
#   of the last seven market days; days are counted among the copies, not from today's date,
#   so a clock gone wrong (a dead battery names today's copy 2000-01-01) deletes nothing, and a
#   stall that sells ten days a year keeps its last seven market days;
CLOSE_KEEP_DAYS = 7
# - the newest three shift-close copies whatever their age, so a stall that sells once a month
#   still has its last three market days, and several shifts in one day keep their last three;
CLOSE_KEEP_NEWEST = 3
# - the newest two before-migration copies: the newest is the last state the previous version
#   wrote (an upgrade that went wrong shows at once), the other covers a second upgrade soon
#   after. Failed starts that repeat one migration (each attempt takes a copy) can never push
#   out a shift-close copy: kinds are kept apart.
MIGRATION_KEEP_NEWEST = 2
# Copies with another label (copied in by hand, or from a later Jangteo) are never deleted.

_NAME = re.compile(r"jangteo-(\d{8})-(\d{6})-([A-Za-z0-9_.-]+?)(\.db\.gz|\.db)")
_LABEL = re.compile(r"[^A-Za-z0-9_-]+")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Backup:
    """One backup file. `kind` is "close", "migration" or "other"; `number` the shift number
    of a close, `revision` the schema revision a migration went to."""

    path: Path
    when: datetime  # as written in the name: the till's local time when it was taken
    label: str
    size: int
    plausible: bool = True  # starts as a gzip or SQLite file and is not tiny: else a file
    # merely named like a copy, which is neither ranked among the copies nor deleted

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def kind(self) -> str:
        if re.fullmatch(r"shift-\d+", self.label):
            return "close"
        if self.label.startswith("before-"):
            return "migration"
        return "other"

    @property
    def number(self) -> int | None:
        return int(self.label[6:]) if self.kind == "close" else None

    @property
    def revision(self) -> str | None:
        return self.label[7:] if self.kind == "migration" else None

    @property
    def compressed(self) -> bool:
        return self.path.name.endswith(SUFFIX)


def list_backups(dest_dir: Path) -> list[Backup]:
    """The backups in a folder, newest first (by the time in their names)."""
    found = []
    try:
        entries = list(Path(dest_dir).iterdir())
    except OSError:
        return []
    for path in entries:
        m = _NAME.fullmatch(path.name)
        if not m or path.is_symlink() or not path.is_file():
            continue  # a link is no copy of ours, and pruning must never delete through one
        try:
            when = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
            size = path.stat().st_size
            with open(path, "rb") as fh:
                head = fh.read(16)
        except (ValueError, OSError):
            continue
        plausible = size >= 512 and (head[:2] == b"\x1f\x8b" or head == b"SQLite format 3\x00")
        found.append(Backup(path, when, m.group(3), size, plausible or size == 0))
    return sorted(found, key=lambda b: (b.when, b.name), reverse=True)


# -- writing a backup --------------------------------------------------------------------------

def _cause(error: BaseException) -> str | None:
    """"disk_full", "read_only", "io_error" or "damaged" for an OS or SQLite error (the store's
    own `error_kind`), or a cut or garbled .gz; else None."""
    if isinstance(error, (EOFError, gzip.BadGzipFile, zlib.error)):
        return "damaged"
    if not isinstance(error, (OSError, sqlite3.Error)):
        return None
    return {"full": "disk_full", "read_only": "read_only", "io": "io_error",
            "corrupt": "damaged"}.get(error_kind(error))


def _backup_error(error: BaseException, dest_dir: Path, source: Path) -> StoreError:
    cause = _cause(error)
    if cause == "disk_full":
        return StoreError("backup_disk_full", path=str(dest_dir))
    if cause == "read_only":
        return StoreError("backup_read_only", path=str(dest_dir))
    if cause == "io_error":
        return StoreError("backup_io_error", path=str(dest_dir))
    if cause == "damaged":
        return StoreError("backup_source_damaged", path=str(source))
    return StoreError("backup_failed", path=str(dest_dir), detail=_detail(error))


def _detail(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return  # Windows cannot open a folder for fsync; a rename there is journaled by NTFS
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove %s", path)


def clean_temporaries(folder: Path) -> None:
    """Remove what an interrupted backup or restore left (`.partial-…`)."""
    try:
        leftovers = list(Path(folder).glob(TEMP_PREFIX + "*"))
    except OSError:
        return
    for path in leftovers:
        if path.is_file():
            log.info("removing %s, left by an interrupted backup", path.name)
            _remove(path)


def _uri(path: Path, mode: str | None = "ro") -> str:
    """An SQLite URI for a file, percent-encoded (a folder may be called `장터 #2`)."""
    return Path(path).resolve().as_uri() + (f"?mode={mode}" if mode else "")


def _quick_check(path: Path) -> str | None:
    """None when SQLite's quick check says ok, else what it said."""
    con = sqlite3.connect(_uri(path), uri=True)
    try:
        rows = con.execute("PRAGMA quick_check").fetchall()
    finally:
        con.close()
    return None if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:5])


def backup(path: Path, dest_dir: Path, label: str, when: datetime) -> Path:
    """A checked, compressed copy of the live database at `path` in `dest_dir`, named for
    `when` and `label`; then the folder is pruned (`prune`). Returns the copy's path.

    Raises `StoreError` (`backup_disk_full`, `backup_read_only`, `backup_io_error`,
    `backup_source_damaged`, `backup_failed`) and leaves no partial file behind."""
    path, dest_dir = Path(path), Path(dest_dir)
    name = f"jangteo-{when:%Y%m%d-%H%M%S}-{_LABEL.sub('-', label)}{SUFFIX}"
    final = dest_dir / name
    copy = dest_dir / (TEMP_PREFIX + name[: -len(".gz")])
    packed = dest_dir / (TEMP_PREFIX + name)
    journal = copy.with_name(copy.name + "-journal")
    try:
        if not path.is_file():
            raise StoreError("backup_source_missing", path=str(path))
        dest_dir.mkdir(parents=True, exist_ok=True)
        clean_temporaries(dest_dir)
        open(copy, "xb").close()  # a folder that may not be written fails here with its errno
        # mode=ro: a data file that went away meanwhile is an error, never a new empty file
        src = sqlite3.connect(_uri(path), uri=True)
        try:
            out = sqlite3.connect(copy)
            try:
                out.execute("PRAGMA synchronous=OFF")  # the compressed file is what is synced
                src.backup(out)
                out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                out.close()
        finally:
            src.close()
        problem = _quick_check(copy)
        if problem is not None:
            raise StoreError("backup_check_failed", path=str(path), detail=problem)
        with open(copy, "rb") as fin, open(packed, "wb") as raw:
            with gzip.GzipFile(filename=DB_NAME, mode="wb", fileobj=raw,
                               compresslevel=COMPRESS_LEVEL) as gz:
                shutil.copyfileobj(fin, gz, _CHUNK)
            raw.flush()
            os.fsync(raw.fileno())
        _remove(copy, journal)
        os.replace(packed, final)
        _fsync_dir(dest_dir)
    except BaseException as e:
        _remove(copy, journal, packed)
        if isinstance(e, StoreError):
            raise
        if isinstance(e, (OSError, sqlite3.Error, EOFError)):
            raise _backup_error(e, dest_dir, path) from e
        raise
    try:
        prune(dest_dir, now=when, just_made=final)
    except OSError as e:  # a copy that could not be deleted costs space, not the backup
        log.warning("could not prune %s: %s", dest_dir, e)
    return final


def newest_closes(found: list[Backup]) -> list[Backup]:
    """The shift-close copies, newest first by shift number (then time): the number only
    grows, while the time in a name is the till's clock, which may be wrong (a dead clock
    battery names today's copy 2000-01-01)."""
    return sorted((b for b in found if b.kind == "close" and b.size > 0 and b.plausible),
                  key=lambda b: (b.number, b.when, b.name), reverse=True)


def to_keep(found: list[Backup], now: datetime) -> set[Path]:
    """The backups `prune` keeps (see the constants above)."""
    closes = newest_closes(found)
    migrations = [b for b in found if b.kind == "migration" and b.size > 0 and b.plausible]
    keep = {b.path for b in found if b.kind == "other" or not b.plausible}
    keep.update(b.path for b in closes[:CLOSE_KEEP_NEWEST])
    keep.update(b.path for b in migrations[:MIGRATION_KEEP_NEWEST])
    seen: set = set()
    for b in sorted(closes, key=lambda b: (b.when, b.number), reverse=True):
        if len(seen) >= CLOSE_KEEP_DAYS:
            break
        if b.when.date() not in seen:  # newest first: the first one seen of a day is its newest
            seen.add(b.when.date())
            keep.add(b.path)
    return keep


def prune(dest_dir: Path, *, now: datetime, just_made: Path | None = None) -> list[Path]:
    """Delete the shift-close and before-migration copies `to_keep` does not keep (and empty
    files, which are no copy at all); returns what was deleted. The copy just made and
    checked is never deleted, whatever unchecked files named like newer copies are there."""
    found = list_backups(dest_dir)
    keep = to_keep(found, now) | ({just_made} if just_made else set())
    gone = []
    for b in found:
        if b.path not in keep:
            b.path.unlink(missing_ok=True)
            gone.append(b.path)
    return gone


# -- restoring ---------------------------------------------------------------------------------

@dataclass
class Restored:
    """What `restore` did. `lacking` counts the receipts (sales, refunds, voids) the replaced
    file had that the backup lacks; None when there was no file or it could not be read."""

    backup: Backup
    data_file: Path
    kept: Path | None  # the folder the replaced files were moved into
    lacking: int | None = None
    newest_lacking: str | None = None  # the receipt number of the newest of them
    unreadable: bool = False
    floors: int = 0  # business days whose receipt numbering was raised past the lacking ones


def _restore_error(error: BaseException, folder: Path) -> StoreError:
    cause = _cause(error)
    if cause == "disk_full":
        return StoreError("restore_disk_full", path=str(folder))
    if cause == "read_only":
        return StoreError("restore_read_only", path=str(folder))
    if cause == "io_error":
        return StoreError("restore_io_error", path=str(folder))
    return StoreError("restore_failed", path=str(folder), detail=_detail(error))


def find_backup(data_dir: Path, which: str | None = None) -> Backup:
    """The backup `which` names (a file name in `backups/`, or a path), else the newest
    shift-close copy (else the newest copy of any kind). Empty files are never chosen."""
    folder = Path(data_dir) / BACKUP_DIR
    backups = [b for b in list_backups(folder) if b.size > 0]
    if which is None:
        closes = newest_closes(backups)
        if closes or backups:
            return (closes or backups)[0]
        raise StoreError("restore_no_backup", path=str(folder))
    for b in backups:
        if which in (b.name, str(b.path)):
            return b
    path = Path(which).expanduser()
    if path.is_file():
        m = _NAME.fullmatch(path.name)
        when = (datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S") if m
                else datetime.fromtimestamp(path.stat().st_mtime))
        return Backup(path.resolve(), when, m.group(3) if m else path.stem, path.stat().st_size)
    raise StoreError("restore_backup_unknown", name=which, path=str(folder))


def _candidates(data_dir: Path, first: Backup) -> list[Backup]:
    """`first`, then the other copies in the order `find_backup` would take them."""
    found = [b for b in list_backups(Path(data_dir) / BACKUP_DIR) if b.size > 0]
    ordered = newest_closes(found) + [b for b in found if b.kind != "close"]
    return [first] + [b for b in ordered if b.path != first.path]


def _unpack(source: Backup, dest: Path) -> None:
    """The backup's database into `dest`: gunzipped (told by its first bytes, not its name),
    or copied as it is (an uncompressed copy from an older Jangteo)."""
    with open(source.path, "rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if packed else open
    with opener(source.path, "rb") as fin, open(dest, "wb") as out:
        shutil.copyfileobj(fin, out, _CHUNK)
        out.flush()
        os.fsync(out.fileno())
    con = sqlite3.connect(dest)
    try:  # a copy of a WAL database says so in its header: make it one self-contained file
        con.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError:
        pass  # not a database: the check that follows says so
    finally:
        con.close()


def _check_restorable(path: Path, source: Backup) -> None:
    try:
        con = sqlite3.connect(_uri(path), uri=True)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise StoreError("restore_backup_damaged", path=str(source.path)) from e
    if rows != [("ok",)] or not {"sales", "outbox", "device", "alembic_version"} <= tables:
        raise StoreError("restore_backup_damaged", path=str(source.path))
    _check_is_a_store(path, source)


def _check_is_a_store(path: Path, source: Backup) -> None:
    """A Jangteo store of a schema this build knows, with its device: any other SQLite file
    with a `sales` table would replace a good store with something that cannot open."""
    from alembic.script import ScriptDirectory

    from pos import __version__
    from pos.store import MIGRATIONS

    con = sqlite3.connect(_uri(path), uri=True)
    try:
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
        devices = con.execute("SELECT COUNT(*) FROM device").fetchone()[0]
        try:
            written = con.execute(
                "SELECT value FROM store_meta WHERE key = 'written_by'").fetchone()
        except sqlite3.DatabaseError:
            written = None
    except sqlite3.DatabaseError as e:
        raise StoreError("restore_backup_damaged", path=str(source.path)) from e
    finally:
        con.close()
    known = {r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if revision is None or devices != 1:
        raise StoreError("restore_backup_damaged", path=str(source.path))
    if revision[0] not in known:
        raise StoreError("newer_data", path=str(source.path),
                         version=written[0] if written else "?", ours=__version__)


_FILES = (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", DB_NAME + "-journal")
LOST_RECEIPTS = "lost_receipts"  # the store_meta key


def lost_receipts(conn) -> list[dict]:
    """The receipts restores found in the files they replaced and not in the backups they put
    back: `device_id`, `business_day`, `receipt_no` and `seq`, the number of the receipt's event
    in the replaced file (the server's number for it, if it was synced). `conn` is a store's
    SQLAlchemy connection."""
    from sqlalchemy import select

    from pos import tables as t

    raw = conn.execute(select(t.store_meta.c.value)
                       .where(t.store_meta.c.key == LOST_RECEIPTS)).scalar()
    try:
        rows = json.loads(raw) if raw else []
        return [{"device_id": str(d), "business_day": str(day), "receipt_no": str(no),
                 "seq": int(seq)} for d, day, no, seq in rows]
    except (ValueError, TypeError):  # written by hand, or cut: nothing is known
        return []


def _compare(restored: Path, replaced: Path, result: Restored, now: datetime) -> None:
    """Count the receipts `replaced` has that `restored` lacks, and write numbering floors
    into `restored` so the till never gives their numbers to other sales."""
    con = sqlite3.connect(_uri(restored, None), uri=True)
    try:
        con.execute("ATTACH DATABASE ? AS cur", (_uri(replaced),))
        rows = con.execute("""SELECT c.device_id, c.business_day, c.receipt_no, c.seq
                              FROM cur.sales c
                              WHERE NOT EXISTS (SELECT 1 FROM main.sales m WHERE m.id = c.id)
                              ORDER BY c.created_at""").fetchall()
        result.lacking = len(rows)
        result.newest_lacking = rows[-1][2] if rows else None
        floors: dict[tuple[str, str], int] = {}
        for device_id, day, number, _seq in rows:
            try:
                n = int(str(number).rsplit("-", 1)[1])
            except (IndexError, ValueError):
                continue
            floors[(device_id, day)] = max(n, floors.get((device_id, day), 0))
        has_floors = con.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'table' "
                                 "AND name = 'receipt_floors'").fetchone()
        if floors and has_floors:
            with con:
                con.executemany(
                    """INSERT INTO main.receipt_floors
                           (device_id, business_day, last_n, reason, created_at)
                       VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT (device_id, business_day)
                       DO UPDATE SET last_n = max(last_n, excluded.last_n),
                                     reason = excluded.reason,
                                     created_at = excluded.created_at""",
                    [(d, day, n, f"restore {now:%Y%m%d-%H%M%S}", now.isoformat())
                     for (d, day), n in floors.items()])
            result.floors = len(floors)
        has_meta = con.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'table' "
                               "AND name = 'store_meta'").fetchone()
        if rows and has_meta:
            before = con.execute("SELECT value FROM main.store_meta WHERE key = ?",
                                 (LOST_RECEIPTS,)).fetchone()
            try:
                known = [list(r) for r in json.loads(before[0])] if before else []
            except (ValueError, TypeError):
                known = []
            seen = {(r[0], r[2]) for r in known}
            known += [[d, day, no, seq] for d, day, no, seq in rows if (d, no) not in seen]
            with con:
                con.execute("INSERT INTO main.store_meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (LOST_RECEIPTS, json.dumps(known, separators=(",", ":"))))
        con.execute("DETACH DATABASE cur")
    finally:
        con.close()


def restore(data_dir: Path, which: str | None = None, *, now: datetime | None = None) -> Restored:
    """Put a backup back as the data file (see `find_backup` for `which`).

    Refuses while another process holds the data folder (the store's lock). The backup is
    unpacked and checked before anything else is touched; then the current data file (with its
    -wal and -shm) is moved into `replaced/YYYYMMDD-HHMMSS/`, never deleted, and the checked
    copy takes its place."""
    data_dir = Path(data_dir)
    now = now or datetime.now().astimezone()
    if not data_dir.is_dir():
        raise StoreError("restore_no_backup", path=str(data_dir / BACKUP_DIR))
    lock = DirectoryLock(data_dir / LOCK_NAME)
    try:
        lock.acquire()
    except OSError as e:  # the lock file cannot even be created (a read-only folder)
        raise _restore_error(e, data_dir) from e
    try:
        source = find_backup(data_dir, which)
        # asked for none: the newest copy that really is one (a file merely named like a
        # newer copy, or one cut short, gives way to the next)
        candidates = [source] if which is not None else _candidates(data_dir, source)
        clean_temporaries(data_dir)
        stamp = f"{now:%Y%m%d-%H%M%S}"
        unpacked = data_dir / f"{TEMP_PREFIX}restore-{stamp}.db"
        temporaries = [unpacked.with_name(unpacked.name + s) for s in ("", "-journal", "-wal",
                                                                      "-shm")]
        for k, source in enumerate(candidates):
            try:
                try:
                    _unpack(source, unpacked)
                except BaseException as e:
                    if _cause(e) == "damaged":
                        raise StoreError("restore_backup_damaged",
                                         path=str(source.path)) from e
                    if isinstance(e, (OSError, sqlite3.Error)):
                        raise _restore_error(e, data_dir) from e
                    raise
                _check_restorable(unpacked, source)
                break
            except BaseException as e:
                _remove(*temporaries)
                damaged = isinstance(e, StoreError) and e.code == "restore_backup_damaged"
                if not damaged or k == len(candidates) - 1:
                    raise
                log.warning("backup %s is no good copy, trying the next one", source.path)
        target = data_dir / DB_NAME
        result = Restored(source, target, None)
        moved: list[tuple[Path, Path]] = []
        try:
            if any((data_dir / f).exists() for f in _FILES):
                kept = data_dir / REPLACED_DIR / stamp
                n = 1
                while kept.exists():
                    n += 1
                    kept = data_dir / REPLACED_DIR / f"{stamp}-{n}"
                # compared where it is, before anything moves: a restore killed at any moment
                # leaves either the old file or the backup in place, never no file at all
                if target.exists():
                    try:
                        _compare(unpacked, target, result, now)
                    except sqlite3.Error as e:
                        if _cause(e) == "disk_full":
                            raise
                        log.warning("the replaced file %s could not be read: %s", target, e)
                        result.unreadable = True
                        result.lacking = None
                        result.newest_lacking = None
                else:
                    result.unreadable = True
                kept.mkdir(parents=True)
                # listed after the comparison, whose reading may have folded the journal in
                present = [data_dir / f for f in _FILES if (data_dir / f).exists()]
                for path in present:
                    os.replace(path, kept / path.name)
                    moved.append((kept / path.name, path))
                result.kept = kept
            with open(unpacked, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(unpacked, target)
            _fsync_dir(data_dir)
        except BaseException as e:
            for there, back in reversed(moved):  # put the current file back as it was
                try:
                    os.replace(there, back)
                except OSError:
                    log.error("could not move %s back to %s", there, back)
            _remove(*temporaries)
            if isinstance(e, (OSError, sqlite3.Error)):
                raise _restore_error(e, data_dir) from e
            raise
        _remove(*temporaries[1:])
        log.info("restored %s into %s (replaced file kept in %s, %s receipts it lacked)",
                 source.path, target, result.kept, result.lacking)
        return result
    finally:
        lock.release()

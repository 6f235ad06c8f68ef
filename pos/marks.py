"""High-water marks: the newest receipt numbers and event a store has confirmed, kept outside
its database so that a lost, cut or replaced database file cannot make the till forget them.

Two copies of one small JSON file are rewritten after every committed document:
- `jangteo.mark` in the data folder: it travels with the folder (a USB stick moved to another
  laptop) and survives a damaged or cut WAL;
- one in the user's state folder (`JANGTEO_STATE_DIR`, else the platform's), named after the
  data folder's path: it survives the data folder being deleted or its stick pulled.

`pos.store` reads them at every start: a store whose receipts are behind a mark of its device
code gets a numbering floor (`receipt_floors`), so the numbers customers may hold are never
given out again, and `jangteo check` names the receipts the store lacks.

The marks are written without fsync: after a power cut a mark may be behind the database, never
ahead of what was confirmed, and a mark behind is harmless (the database itself numbers on).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

MARK_NAME = "jangteo.mark"
KEEP_DAYS = 14  # business days a mark remembers; a lost store older than that cannot collide


def state_dir() -> Path:
    env = os.environ.get("JANGTEO_STATE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("Jangteo", appauthor=False))


def outside_path(data_dir: Path) -> Path:
    key = hashlib.sha256(str(Path(data_dir).resolve()).encode("utf-8", "surrogateescape"))
    return state_dir() / "marks" / f"{key.hexdigest()[:20]}.json"


@dataclass
class Mark:
    store_id: str  # the device row's id: one per database file ever made
    device_code: str
    seq: int = 0
    days: dict[str, int] = field(default_factory=dict)  # business day -> last receipt n
    shift: int = 0  # the newest shift number
    # receipt numbers other stores gave out with this device code (a store lost here before):
    # kept from being given again, but not this store's own receipts
    inherited: dict[str, int] = field(default_factory=dict)
    data_dir: str = ""  # the folder it was last written from

    def inherit(self, day: str, n: int) -> None:
        if n:
            self.inherited[day] = max(self.inherited.get(day, 0), n)
            if len(self.inherited) > KEEP_DAYS:
                for old in sorted(self.inherited)[:-KEEP_DAYS]:
                    del self.inherited[old]

    def confirm(self, seq: int, day: str | None, n: int | None) -> None:
        self.seq = max(self.seq, seq)
        if day is not None and n:
            self.days[day] = max(self.days.get(day, 0), n)
            if len(self.days) > KEEP_DAYS:
                for old in sorted(self.days)[:-KEEP_DAYS]:
                    del self.days[old]

    def to_json(self, data_dir: Path) -> str:
        return json.dumps({"store_id": self.store_id, "device_code": self.device_code,
                           "seq": self.seq, "days": self.days, "shift": self.shift,
                           "inherited": self.inherited,
                           "data_dir": str(data_dir)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Mark | None":
        """A mark, or None for anything that is not one (a cut or garbled file is no mark)."""
        try:
            raw = json.loads(text)
            store_id, code, seq = raw["store_id"], raw["device_code"], raw["seq"]
            days = {str(d): int(n) for d, n in raw["days"].items()
                    if isinstance(n, int) and 0 < n < 10**5 and len(str(d)) == 10}
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        if not (isinstance(store_id, str) and isinstance(code, str) and isinstance(seq, int)):
            return None
        if not (0 < len(code) <= 6 and code.isalnum() and 0 <= seq < 2**62):
            return None
        shift = raw.get("shift", 0)
        shift = shift if isinstance(shift, int) and 0 <= shift < 10**7 else 0
        inherited = raw.get("inherited", {})
        inherited = {str(d): n for d, n in inherited.items()
                     if isinstance(n, int) and 0 < n < 10**5 and len(str(d)) == 10} \
            if isinstance(inherited, dict) else {}
        folder = raw.get("data_dir", "")
        return cls(store_id, code, seq, days, shift, inherited,
                   folder if isinstance(folder, str) else "")


def store_path(store_id: str) -> Path:
    """The copy kept under the store's own id: a data folder copied elsewhere and used from
    both places (on this computer) still shares it."""
    safe = "".join(ch for ch in store_id if ch.isalnum() or ch == "-")[:40] or "none"
    return state_dir() / "marks" / f"store-{safe}.json"


def mark_paths(data_dir: Path, store_id: str | None = None) -> list[Path]:
    paths = [Path(data_dir) / MARK_NAME, outside_path(data_dir)]
    return paths + [store_path(store_id)] if store_id else paths


SLOT = 4096  # each file holds two slots, written in turn: a write torn by a power cut spoils
# only the slot being written, and the other one still holds the mark before it


def _parse_file(raw: bytes) -> "Mark | None":
    """Both slots merged: each day's highest number and the highest seq of either slot (which
    slot was written last is not known: after a store lost events both may carry one seq)."""
    found = []
    for k in range(2):
        chunk = raw[k * SLOT:(k + 1) * SLOT]
        try:
            mark = Mark.from_json(chunk.decode("utf-8").strip())
        except UnicodeDecodeError:
            mark = None
        if mark is not None:
            found.append(mark)
    if not found:
        return None
    best = max(found, key=lambda m: m.seq)
    merged = Mark(best.store_id, best.device_code, best.seq,
                  shift=max(m.shift for m in found if m.device_code == best.device_code),
                  data_dir=best.data_dir)
    for mark in found:
        if mark.device_code == best.device_code:
            for day, n in mark.days.items():
                merged.confirm(0, day, n)
            for day, n in mark.inherited.items():
                merged.inherit(day, n)
    return merged


def read_marks(data_dir: Path, store_id: str | None = None) -> list[Mark]:
    marks = []
    for path in mark_paths(data_dir, store_id):
        try:
            if path.is_symlink() or not path.is_file():
                continue
            with open(path, "rb") as fh:
                raw = fh.read(2 * SLOT + 1)
        except OSError:
            continue
        mark = _parse_file(raw[:2 * SLOT])
        if mark is not None:
            marks.append(mark)
    return marks


class MarkFiles:
    """Both copies of a store's mark, kept open: a mark is one `pwrite` per copy (a sale must
    not wait for file renames). A copy that cannot be opened or written is skipped: a read-only
    state folder must not stop a sale that is already committed."""

    def __init__(self, data_dir: Path, store_id: str | None = None):
        self.data_dir = Path(data_dir)
        self.store_id = store_id
        self._fds: list[int] | None = None
        self._turn = 0

    def _open(self) -> list[int]:
        fds = []
        for path in mark_paths(self.data_dir, self.store_id):
            try:
                if path.parent != self.data_dir:
                    path.parent.mkdir(parents=True, exist_ok=True)
                # never through a symbolic link: a mark must not overwrite another file
                fds.append(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
                                   | getattr(os, "O_NOFOLLOW", 0), 0o644))
            except OSError:
                continue
        return fds

    def write(self, mark: Mark) -> None:
        if self._fds is None:
            self._fds = self._open()
        data = mark.to_json(self.data_dir).encode("utf-8")
        if len(data) >= SLOT:
            return
        data = data.ljust(SLOT, b" ")
        offset = self._turn * SLOT
        self._turn ^= 1
        for fd in self._fds:
            try:
                if hasattr(os, "pwrite"):
                    os.pwrite(fd, data, offset)
                else:  # Windows
                    os.lseek(fd, offset, os.SEEK_SET)
                    os.write(fd, data)
            except OSError:
                pass

    def close(self) -> None:
        for fd in self._fds or []:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = None


def write_marks(data_dir: Path, mark: Mark) -> None:  # every copy, the store's own too
    """Both copies once (both slots, so no older slot outranks it)."""
    files = MarkFiles(data_dir, mark.store_id)
    try:
        files.write(mark)
        files.write(mark)
    finally:
        files.close()

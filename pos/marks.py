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

    def confirm(self, seq: int, day: str | None, n: int | None) -> None:
        self.seq = max(self.seq, seq)
        if day is not None and n:
            self.days[day] = max(self.days.get(day, 0), n)
            if len(self.days) > KEEP_DAYS:
                for old in sorted(self.days)[:-KEEP_DAYS]:
                    del self.days[old]

    def to_json(self, data_dir: Path) -> str:
        return json.dumps({"store_id": self.store_id, "device_code": self.device_code,
                           "seq": self.seq, "days": self.days,
                           "data_dir": str(data_dir)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Mark | None":
        """A mark, or None for anything that is not one (a cut or garbled file is no mark)."""
        try:
            raw = json.loads(text)
            store_id, code, seq = raw["store_id"], raw["device_code"], raw["seq"]
            days = {str(d): int(n) for d, n in raw["days"].items()
                    if isinstance(n, int) and 0 < n < 10**7 and len(str(d)) == 10}
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        if not (isinstance(store_id, str) and isinstance(code, str) and isinstance(seq, int)):
            return None
        if not (0 < len(code) <= 6 and code.isalnum() and 0 <= seq < 2**62):
            return None
        return cls(store_id, code, seq, days)


def mark_paths(data_dir: Path) -> list[Path]:
    return [Path(data_dir) / MARK_NAME, outside_path(data_dir)]


def read_marks(data_dir: Path) -> list[Mark]:
    marks = []
    for path in mark_paths(data_dir):
        try:
            if path.stat().st_size > 100_000:
                continue
            mark = Mark.from_json(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if mark is not None:
            marks.append(mark)
    return marks


def write_marks(data_dir: Path, mark: Mark) -> None:
    """Both copies, each replaced atomically; a copy that cannot be written is skipped (a
    read-only state folder must not stop a sale that is already committed)."""
    text = mark.to_json(data_dir)
    for path in mark_paths(data_dir):
        tmp = path.with_name(path.name + ".tmp")
        try:
            try:
                tmp.write_text(text, "utf-8")
            except FileNotFoundError:
                if path.parent == Path(data_dir):
                    continue  # the data folder itself is gone: the store notices on its own
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(text, "utf-8")
            os.replace(tmp, path)
        except OSError:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass

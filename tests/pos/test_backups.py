"""Backups on real SQLite files: written whole or not at all (a real tmpfs that fills during the
close's backup), compressed, kept by kind and age, and restored without losing newer sales."""

from __future__ import annotations

import os
import errno
import gzip
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pos import backups, services as svc
from pos.demo import run_demo
from pos.domain import Tender
from pos.i18n import error_text, tr
from pos.store import DirectoryLock, Store, StoreError
from tests.conftest import KST, ROOT, in_shift
from tests.mounts import fill, tmpfs


def jangteo(*args):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]}
    return subprocess.run([sys.executable, "-m", "pos.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env=env)


def sales_in(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
    finally:
        con.close()


def gunzip(path: Path, dest: Path) -> Path:
    with gzip.open(path, "rb") as fin, open(dest, "wb") as out:
        shutil.copyfileobj(fin, out)
    return dest


@dataclass
class Template:
    db: Path  # a closed data file: the demo stall, 2,000 sales in an open shift
    raw: int
    packed: int  # the size of its backup


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    folder = tmp_path_factory.mktemp("template")
    with Store(folder / "data") as st:
        run_demo(st, sales=2000, day=datetime(2026, 11, 21).date())
    db = folder / "data" / "jangteo.db"
    trial = backups.backup(db, folder / "trial", "shift-0", datetime(2026, 11, 21, 18, 0))
    return Template(db, db.stat().st_size, trial.stat().st_size)


def sell(store, stall, n=1):
    for _ in range(n):
        with store.unit_of_work() as uow:
            in_shift(uow)
            svc.record_sale(uow, items=[svc.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
            uow.commit()


# -- what a backup is ---------------------------------------------------------------------------

def test_a_backup_is_a_checked_compressed_copy_much_smaller_than_the_data(template, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(template.db, data / "jangteo.db")
    with Store(data) as st:
        with st.unit_of_work() as uow:
            expected = svc.expected_cash(uow, shift_id=svc.current_shift(uow)["id"])
            result = svc.close_shift(uow, counted=expected)
            uow.commit()
    assert result.backup_error is None
    assert result.backup.name.endswith("-shift-1.db.gz") and result.backup.name.startswith(
        "jangteo-")
    assert [p.name for p in (data / "backups").iterdir()] == [result.backup.name]
    size = result.backup.stat().st_size
    assert size * 3 < (data / "jangteo.db").stat().st_size  # measured: 4.5x smaller
    copy = gunzip(result.backup, tmp_path / "copy.db")
    con = sqlite3.connect(copy)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one whole file
    assert con.execute("SELECT status FROM shifts").fetchall() == [("closed",)]  # after close
    con.close()
    assert sales_in(copy) == sales_in(data / "jangteo.db") > 2000


def test_leftover_temporaries_from_a_crash_are_removed_by_the_next_backup(store, stall, clock):
    folder = store.data_dir / "backups"
    folder.mkdir()
    (folder / ".partial-jangteo-20261120-180000-shift-1.db").write_bytes(b"SQLite format 3\0")
    (folder / ".partial-jangteo-20261120-180000-shift-1.db.gz").write_bytes(b"\x1f\x8b")
    (folder / ".partial-jangteo-20261120-180000-shift-1.db-journal").write_bytes(b"")
    (folder / "notes.txt").write_text("the vendor's own file")
    made = backups.backup(store.path, folder, "shift-2", clock.now())
    assert sorted(p.name for p in folder.iterdir()) == sorted([made.name, "notes.txt"])


def test_a_data_file_that_is_gone_is_an_error_not_an_empty_backup(tmp_path, clock):
    with pytest.raises(StoreError) as e:
        backups.backup(tmp_path / "gone" / "jangteo.db", tmp_path / "backups", "shift-1",
                       clock.now())
    assert e.value.code == "backup_source_missing"
    assert not (tmp_path / "gone").exists() and not (tmp_path / "backups").exists()


# -- a disk that fills during the close's backup -------------------------------------------------

@pytest.mark.parametrize("stage", ["copy", "compress"])
def test_a_disk_that_fills_during_the_close_backup_leaves_the_close_recorded(
        template, tmp_path, clock, stage):
    with tmpfs(tmp_path / "disk", "24m") as disk:
        data = disk / "data"
        data.mkdir()
        shutil.copy(template.db, data / "jangteo.db")
        st = Store(data, clock=clock)
        try:
            with st.unit_of_work() as uow:
                shift = svc.current_shift(uow)
                expected = svc.expected_cash(uow, shift_id=shift["id"])
            # "copy": no room for SQLite's copy of the file; "compress": room for the copy
            # (and the close's own WAL pages, about 50 KB), not for the compressed file too
            leave = template.raw // 2 if stage == "copy" else (
                template.raw + 256 * 1024 + template.packed // 2)
            fill(disk, leave=leave)
            with st.unit_of_work() as uow:
                result = svc.close_shift(uow, counted=expected)
                uow.commit()  # the close is committed: nothing after it raises
            failed = result.backup_error
            assert result.backup is None and isinstance(failed, StoreError)
            assert failed.code == "backup_disk_full"
            if stage == "copy":  # SQLite's "database or disk is full", in words
                assert isinstance(failed.__cause__, sqlite3.OperationalError)
            else:
                assert isinstance(failed.__cause__, OSError)
                assert failed.__cause__.errno == errno.ENOSPC
            assert list((data / "backups").iterdir()) == []  # no 0-byte or partial copy
            folder = data / "backups"
            assert error_text(failed, "en") == tr("backup_disk_full", "en", path=str(folder)) == (
                f"The backup copy could not be written: the disk is full ({folder}). "
                "Free some space on it.")
            assert "디스크가 가득 찼습니다" in error_text(failed, "ko")
            assert "database or disk is full" not in error_text(failed, "en")
            with st.unit_of_work() as uow:  # the till goes on: the space the copy took is back
                assert svc.get_shift(uow, shift_id=shift["id"])["status"] == "closed"
                svc.open_shift(uow, float_amount=0)
                uow.commit()
        finally:
            st.close()
        with Store(data, clock=clock) as again:
            with again.unit_of_work(write=False) as uow:
                closed = svc.get_shift(uow, shift_id=shift["id"])
            assert closed["status"] == "closed" and closed["counted_amount"] == expected


def test_shift_close_on_a_full_disk_from_the_command_line(template, tmp_path):
    with tmpfs(tmp_path / "disk", "24m") as disk:
        data = disk / "data"
        data.mkdir()
        shutil.copy(template.db, data / "jangteo.db")
        fill(disk, leave=template.raw // 2)
        out = jangteo("--data-dir", data, "--lang", "en", "shift", "close", "--counted", "0",
                      "--reason", "counted at the bank")
        assert out.returncode == 0, out.stderr  # the close was done: exit 0 (README)
        assert out.stdout.startswith("Shift #1 closed.")
        folder = data / "backups"
        assert out.stderr.strip() == (
            "The shift was closed and recorded. The backup copy could not be written: the disk "
            f"is full ({folder}). Free some space on it.")
        assert list(folder.iterdir()) == []
        status = jangteo("--data-dir", data, "--lang", "en", "shift", "status")
        assert status.returncode == 0 and status.stdout.strip() == "No shift is open."


# -- what is kept --------------------------------------------------------------------------------

def test_keeping_goes_by_kind_so_failed_upgrades_never_push_out_close_backups(store, stall):
    folder = store.data_dir / "backups"
    day = datetime(2026, 11, 1, 18, 0, tzinfo=KST)
    for n in range(1, 13):  # a close on each of 12 market days, two on the last one
        backups.backup(store.path, folder, f"shift-{n}", day + timedelta(days=n))
    backups.backup(store.path, folder, "shift-13", day + timedelta(days=12, hours=2))
    last = day + timedelta(days=12, hours=3)
    for attempt in range(25):  # a start that fails after its before-migration copy, 25 times
        backups.backup(store.path, folder, "before-0007", last + timedelta(minutes=attempt))
    kept = backups.list_backups(folder)
    closes = [b.number for b in kept if b.kind == "close"]
    # the newest three whatever their age, and each of the last seven days' newest
    assert closes == [13, 12, 11, 10, 9, 8, 7, 6]
    migrations = [b for b in kept if b.kind == "migration"]
    assert len(migrations) == backups.MIGRATION_KEEP_NEWEST == 2
    assert migrations[0].when == (last + timedelta(minutes=24)).replace(tzinfo=None)


def test_the_newest_close_backups_are_kept_whatever_their_age(store, stall):
    folder = store.data_dir / "backups"
    old = datetime(2025, 5, 1, 18, 0, tzinfo=KST)
    for n in range(1, 11):  # a stall that sold on ten days a month apart
        backups.backup(store.path, folder, f"shift-{n}", old + timedelta(days=30 * n))
    (folder / "jangteo-20250101-120000-shift-0.db").write_bytes(b"")  # a 0-byte "backup"
    (folder / "jangteo-20240101-120000-by-hand.db.gz").write_bytes(b"mine")
    backups.backup(store.path, folder, "before-0007", datetime(2026, 11, 21, 9, 0, tzinfo=KST))
    names = [b.name for b in backups.list_backups(folder)]
    # its seven newest market days, however long ago (a year's markets, not a calendar week)
    assert [b.number for b in backups.list_backups(folder) if b.kind == "close"] == \
        [10, 9, 8, 7, 6, 5, 4]
    assert "jangteo-20250101-120000-shift-0.db" not in names  # empty: no copy at all
    assert "jangteo-20240101-120000-by-hand.db.gz" in names  # not ours to delete


# -- restoring ----------------------------------------------------------------------------------

def close(store):
    with store.unit_of_work() as uow:
        shift = svc.current_shift(uow)
        result = svc.close_shift(uow, counted=svc.expected_cash(uow, shift_id=shift["id"]))
        uow.commit()
    assert result.backup_error is None
    return result


def test_restore_round_trip_keeps_the_current_file_and_says_what_the_backup_lacks(
        store, stall, tmp_path):
    with store.unit_of_work() as uow:
        svc.open_shift(uow, float_amount=10000)
        uow.commit()
    sell(store, stall, 4)
    made = close(store).backup
    sell(store, stall, 3)  # after the backup: only in the current file
    data = store.data_dir
    store.close()
    con = sqlite3.connect(data / "jangteo.db")
    newest = con.execute("SELECT receipt_no FROM sales ORDER BY seq DESC LIMIT 1").fetchone()[0]
    con.close()

    listing = jangteo("--data-dir", data, "--lang", "en", "backup", "list")
    assert listing.returncode == 0
    assert "after closing shift #1" in listing.stdout and made.name in listing.stdout
    assert "jangteo restore takes this one" in listing.stdout

    out = jangteo("--data-dir", data, "--lang", "en", "restore")
    assert out.returncode == 0, out.stderr
    kept = next((data / "replaced").iterdir())
    assert f"Restored {made} (after closing shift #1) as {data / 'jangteo.db'}." in out.stdout
    assert f"kept, not deleted, in {kept}" in out.stdout
    assert (f"The replaced file has 3 receipts newer than the backup (the newest: {newest})"
            in out.stdout)
    assert sales_in(kept / "jangteo.db") == 7  # the current file, whole, beside
    assert sales_in(data / "jangteo.db") == 4
    con = sqlite3.connect(data / "jangteo.db")  # the restored file remembers the numbers given
    floors = con.execute("SELECT last_n, reason FROM receipt_floors").fetchall()
    con.close()
    assert [n for n, _ in floors] == [7] and floors[0][1].startswith("restore")
    con = sqlite3.connect(data / "jangteo.db")  # and the restore is in its audit log
    action, subject, details = con.execute(
        "SELECT action, subject, details FROM audit_log ORDER BY n DESC LIMIT 1").fetchone()
    con.close()
    assert (action, subject) == ("restore", made.name) and '"lacking": 3' in details
    assert not list(data.glob(".partial-*"))
    with Store(data, clock=store.clock) as restored:  # opens as a store again
        with restored.unit_of_work(write=False) as uow:
            assert len(svc.list_shifts(uow)) == 1
        sell(restored, stall)
        with restored.unit_of_work(write=False) as uow:  # numbered after the ones given out
            numbers = [d["receipt_no"] for d in svc.list_documents(uow)]
        assert max(numbers) == newest[:-4] + "0008"

    again = jangteo("--data-dir", data, "--lang", "ko", "restore", made.name)
    # the one sale made after the first restore is only in the file this restore replaces
    assert again.returncode == 0 and "백업보다 새로운 영수증이 1건" in again.stdout
    assert newest[:-4] + "0008" in again.stdout
    assert len(list((data / "replaced").iterdir())) == 2  # every replaced file is kept


def test_restore_refuses_while_the_till_has_the_folder(store, stall):
    sell(store, stall)
    backups.backup(store.path, store.data_dir / "backups", "shift-1", store.clock.now())
    with pytest.raises(StoreError) as e:
        backups.restore(store.data_dir)
    assert e.value.code == "already_running"
    assert not (store.data_dir / "replaced").exists()
    assert sales_in(store.path) == 1


def test_a_damaged_backup_is_refused_and_nothing_is_touched(store, stall, tmp_path):
    sell(store, stall, 2)
    made = backups.backup(store.path, store.data_dir / "backups", "shift-1", store.clock.now())
    data = store.data_dir
    store.close()
    before = (data / "jangteo.db").read_bytes()
    made.write_bytes(made.read_bytes()[: made.stat().st_size // 2])  # cut short
    out = jangteo("--data-dir", data, "--lang", "en", "restore")
    assert out.returncode == 3
    assert out.stderr.strip().startswith(f"The backup {made} is damaged")
    assert (data / "jangteo.db").read_bytes() == before
    assert not (data / "replaced").exists() and not list(data.glob(".partial-*"))
    with pytest.raises(StoreError) as e:
        backups.restore(data, "jangteo-20990101-000000-shift-9.db.gz")
    assert e.value.code == "restore_backup_unknown"


def test_an_uncompressed_backup_from_an_older_jangteo_is_listed_and_restorable(store, stall):
    sell(store, stall, 2)
    folder = store.data_dir / "backups"
    folder.mkdir()
    src = sqlite3.connect(store.path)
    old = sqlite3.connect(folder / "jangteo-20261120-180000-shift-1.db")
    src.backup(old)  # exactly what the old backup wrote
    old.close()
    src.close()
    (folder / "jangteo-20261120-190000-shift-2.db").write_bytes(b"")  # the old 0-byte failure
    sell(store, stall)
    data = store.data_dir
    store.close()
    chosen = backups.find_backup(data)
    assert chosen.name == "jangteo-20261120-180000-shift-1.db" and not chosen.compressed
    done = backups.restore(data)
    assert done.lacking == 1 and sales_in(data / "jangteo.db") == 2
    with Store(data):
        pass


def test_restore_with_no_backup_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError) as e:
        backups.restore(tmp_path / "empty")
    assert e.value.code == "restore_no_backup"
    assert "no backup to restore" in error_text(e.value, "en")
    lock = DirectoryLock(tmp_path / "empty" / "jangteo.lock")
    lock.acquire()  # restore let go of the folder
    lock.release()


def test_restore_refuses_a_file_that_is_not_a_store_and_touches_nothing(store, stall, tmp_path):
    import gzip

    sell(store, stall)
    data = store.data_dir
    store.close()
    before = sales_in(data / "jangteo.db")
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE sales (x)")
    con.commit()
    con.close()
    fake = data / "backups" / "jangteo-20991231-235959-shift-98.db.gz"
    fake.parent.mkdir(exist_ok=True)
    fake.write_bytes(gzip.compress(foreign.read_bytes()))
    out = jangteo("--data-dir", data, "--lang", "en", "restore")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "damaged" in out.stderr.lower() or "cannot" in out.stderr.lower(), out.stderr
    assert sales_in(data / "jangteo.db") == before and not (data / "replaced").exists()


def test_the_newest_close_backup_is_told_by_its_shift_number_not_a_wrong_clock(tmp_path):
    from datetime import datetime

    folder = tmp_path / "backups"
    folder.mkdir()
    for name in ("jangteo-20261105-180000-shift-5.db.gz", "jangteo-20000101-000100-shift-6.db.gz",
                 "jangteo-20000101-000200-shift-7.db.gz"):
        (folder / name).write_bytes(gzip.compress(os.urandom(2000)))
    found = backups.list_backups(folder)
    assert [b.number for b in backups.newest_closes(found)] == [7, 6, 5]
    assert backups.find_backup(tmp_path).number == 7
    kept = backups.to_keep(found, datetime(2000, 1, 1, 0, 5))
    assert {folder / n for n in ("jangteo-20000101-000100-shift-6.db.gz",
                                 "jangteo-20000101-000200-shift-7.db.gz")} <= kept


def test_a_close_whose_backup_was_cut_short_gets_one_at_the_next_start(store, stall):
    with store.unit_of_work() as uow:
        svc.open_shift(uow, float_amount=0)
        uow.commit()
    sell(store, stall, 2)
    close(store)
    data, clock = store.data_dir, store.clock
    store.close()
    for b in backups.list_backups(data / "backups"):  # as if killed while it was written
        b.path.unlink()
    with Store(data, clock=clock) as again:
        assert again.notes == []
    made = backups.list_backups(data / "backups")
    assert [(b.kind, b.number) for b in made] == [("close", 1)]
    with Store(data, clock=clock):  # and only once
        pass
    assert len(backups.list_backups(data / "backups")) == 1


def test_junk_named_like_newer_copies_never_costs_the_real_ones(store, stall):
    with store.unit_of_work() as uow:
        svc.open_shift(uow, float_amount=0)
        uow.commit()
    sell(store, stall)
    close(store)  # shift 1: a real copy
    folder = store.data_dir / "backups"
    day = store.clock.now().strftime("%Y%m%d")
    (folder / f"jangteo-{day}-235959-shift-99999999999999999999.db.gz").write_bytes(b"x")
    (folder / f"jangteo-{day}-235958-shift-50.db.gz").write_bytes(gzip.compress(b"SQLite")[:15])
    victim = store.data_dir.parent / "victim.txt"
    victim.write_text("precious")
    (folder / f"jangteo-{day}-235957-shift-9.db.gz").symlink_to(victim)
    with store.unit_of_work() as uow:
        svc.open_shift(uow, float_amount=0)
        uow.commit()
    sell(store, stall)
    made = close(store).backup  # shift 2
    names = {p.name for p in folder.iterdir()}
    assert made.name in names and any(n.endswith("-shift-1.db.gz") for n in names)
    assert victim.read_text() == "precious"
    data = store.data_dir
    store.close()
    out = jangteo("--data-dir", data, "--lang", "en", "restore")  # the newest real one
    assert out.returncode == 0, out.stderr
    assert made.name in out.stdout

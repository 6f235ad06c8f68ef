"""The till never loses a sale to its surroundings: a data folder deleted under it, a file
replaced, a full or read-only disk, data from a newer build, an empty file, a cut WAL, a clock
that jumped back. Each test makes the real condition on a real SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from pos import services as s
from pos.clock import SteppingClock
from pos.domain import Tender
from pos.errors import CodedError
from pos.i18n import error_text
from pos.services.check import run_checks
from pos.store import Store, StoreError
from tests.conftest import KST, ROOT, in_shift
from tests.mounts import fill, remount


def _setup(store) -> str:
    with store.unit_of_work() as uow:
        if not s.list_enterprises(uow):
            eid = s.add_enterprise(uow, name="공방")
            s.add_product(uow, name="비누", price=3000, enterprise_id=eid, sku="SOAP")
        pid = s.product_by_code(uow, code="SOAP")["id"]
        if s.current_shift(uow) is None:
            s.open_shift(uow, float_amount=0)
        uow.commit()
    return pid


def _sell(store, pid: str):
    with store.unit_of_work() as uow:
        in_shift(uow)
        doc = s.record_sale(uow, items=[s.SaleItem(pid)], tenders=[Tender("cash", 3000)])
        uow.commit()
    return doc


def _receipts(data) -> list[str]:
    con = sqlite3.connect(data / "jangteo.db")
    try:
        return [r[0] for r in con.execute("SELECT receipt_no FROM sales ORDER BY seq")]
    finally:
        con.close()


def _cli(data, *args, lang="en"):
    return subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", str(data),
                           "--lang", lang, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


# -- 1. the data folder deleted, the file replaced, the stick pulled --------------------------

def test_a_data_folder_deleted_under_the_till_refuses_the_sale_and_saves_the_rest(tmp_path,
                                                                                  clock):
    data = tmp_path / "data"
    store = Store(data, clock=clock)
    try:
        pid = _setup(store)
        sold = [_sell(store, pid).receipt_no for _ in range(3)]
        shutil.rmtree(data)  # the vendor's cleaning tool, or a sync client "tidying up"
        with pytest.raises(StoreError) as e:
            _sell(store, pid)
        assert e.value.code == "store_gone"
        assert e.value.params["count"] == 3
        text = error_text(e.value, "en")
        assert "NOT saved" in text and "3 sales" in text and str(data) in text
        assert "저장되지 않았습니다" in error_text(e.value, "ko")
        with pytest.raises(StoreError) as again:  # every later write is refused the same way
            _sell(store, pid)
        assert again.value is e.value
    finally:
        store.close()
    assert _receipts(data) == sold  # the copy went back where the store was
    with Store(data, clock=clock) as st:  # and the next start goes on from it
        assert st.notes == []
        assert _sell(st, pid).receipt_no.endswith("-0004")
        with st.unit_of_work(write=False) as uow:
            assert run_checks(uow) == []


def test_a_data_file_replaced_under_the_till_keeps_both(tmp_path, clock):
    data = tmp_path / "data"
    store = Store(data, clock=clock)
    try:
        pid = _setup(store)
        sold = _sell(store, pid).receipt_no
        other = tmp_path / "other.db"
        sqlite3.connect(other).close()
        os.replace(other, data / "jangteo.db")  # an old copy put over it
        with pytest.raises(StoreError) as e:
            _sell(store, pid)
        assert e.value.code == "store_gone_copy"
        copy = e.value.params["copy"]
        assert copy.startswith(str(data / "rescued"))
        assert f'jangteo restore "{copy}"' in error_text(e.value, "en")
    finally:
        store.close()
    assert not (data / "jangteo.clean").exists()  # a lost store never claims a clean close
    back = _cli(data, "restore", copy)  # the way on the message gives
    assert back.returncode == 0, back.stderr
    assert _receipts(data) == [sold]
    assert any((data / "replaced").iterdir())  # the file that had been put there is kept


def test_a_journal_deleted_under_the_till_is_written_into_the_file_before_it_is_lost(
        tmp_path, clock):
    data = tmp_path / "data"
    store = Store(data, clock=clock)
    try:
        pid = _setup(store)
        sold = [_sell(store, pid).receipt_no for _ in range(3)]
        os.unlink(data / "jangteo.db-wal")  # the sales since the last checkpoint are in it
        with pytest.raises(StoreError) as e:
            _sell(store, pid)
        assert e.value.code == "store_gone" and e.value.params["copy"] == str(data / "jangteo.db")
    finally:
        # no clean close: as if the till were killed right after (nothing else checkpoints)
        store._lock.release()
    assert _receipts(data) == sold


def test_a_store_whose_drive_is_gone_is_saved_to_this_computer_and_numbering_goes_on(
        tmp_path, clock):
    stick = tmp_path / "stick"
    data = stick / "jangteo"
    store = Store(data, clock=clock)
    try:
        pid = _setup(store)
        sold = [_sell(store, pid).receipt_no for _ in range(2)]
        shutil.rmtree(stick)  # the mount point goes with the stick
        with pytest.raises(StoreError) as e:
            _sell(store, pid)
        assert e.value.code == "store_gone_copy"
        copy = e.value.params["copy"]
        assert copy.startswith(os.environ["JANGTEO_STATE_DIR"])  # not recreated on the laptop
    finally:
        store.close()
    assert not stick.exists()
    # a new empty store at that path must not hand out the numbers customers hold
    with Store(data, clock=clock) as st:
        assert [n.code for n in st.notes] == ["former_store_lost_rescued"]
        assert sold[-1] in error_text(st.notes[0], "en") and copy in error_text(st.notes[0], "en")
        assert st.device["code"] == sold[0].split("-")[0]
        pid = _setup(st)
        assert _sell(st, pid).receipt_no.endswith("-0003")
        with st.unit_of_work(write=False) as uow:
            # the lost store's receipts are not this store's: the start said where they are
            assert run_checks(uow) == []


# -- 2 and 5. a full disk, a read-only medium -----------------------------------------------

def test_a_full_disk_at_start_is_not_called_damage_and_nothing_is_lost(small_disk, clock):
    disk = small_disk("3m")
    data = disk / "jangteo"
    with Store(data, clock=clock) as st:
        pid = _setup(st)
        _sell(st, pid)
    os.unlink(data / "jangteo.clean")  # as after a crash: the start reads the whole file
    filler = fill(disk)
    with pytest.raises(StoreError) as e:
        Store(data, clock=clock)
    assert e.value.code == "start_disk_full"
    assert "full" in error_text(e.value, "en") and "가득" in error_text(e.value, "ko")
    assert "jangteo restore" not in error_text(e.value, "en")
    cli = _cli(data, "shift", "cash", "--in", "1000", "--reason", "change")
    assert cli.returncode == 3 and "Traceback" not in cli.stderr
    assert "is full" in cli.stderr
    status = _cli(data, "shift", "status")  # reading needs no space: opened read-only
    assert status.returncode == 0 and "1 receipt" in status.stdout, status.stderr
    check = _cli(data, "check")
    assert check.returncode == 0 and "1 document" in check.stdout, check.stderr
    filler.unlink()
    with Store(data, clock=clock) as st:  # the space freed, everything is there
        with st.unit_of_work(write=False) as uow:
            assert run_checks(uow) == []
            assert uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar() == 1


def test_a_read_only_folder_can_be_read_and_says_why_it_cannot_sell(small_disk, clock,
                                                                     tmp_path):
    disk = small_disk("8m")
    data = disk / "jangteo"
    with Store(data, clock=clock) as st:
        pid = _setup(st)
        _sell(st, pid)
        _sell(st, pid)
    remount(disk, "ro")
    try:
        check = _cli(data, "check")
        assert check.returncode == 0, check.stderr
        assert "2 documents" in check.stdout
        out = tmp_path / "sales.csv"
        export = _cli(data, "sales", "export", str(out))
        assert export.returncode == 0, export.stderr
        assert "비누" in out.read_text("utf-8-sig")
        listing = _cli(data, "enterprise", "list")
        assert listing.returncode == 0 and "공방" in listing.stdout
        sell = _cli(data, "shift", "open", "--float", "0")
        assert sell.returncode == 3 and "Traceback" not in sell.stderr
        assert "read-only" in sell.stderr and str(data) in sell.stderr
        with pytest.raises(StoreError) as e:
            Store(data, clock=clock)
        assert e.value.code == "folder_read_only"
        with Store(data, clock=clock, read_only=True) as st:
            with pytest.raises(StoreError) as w:
                with st.unit_of_work():
                    pass
            assert w.value.code == "folder_read_only"
    finally:
        remount(disk, "rw")


def test_a_read_only_folder_whose_journal_cannot_be_read_shows_nothing_rather_than_less(
        small_disk):
    disk = small_disk("8m")
    data = disk / "jangteo"
    child = subprocess.run([sys.executable, "-c", CUTTER, str(data)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr  # ten sales, all in the journal
    (data / "jangteo.db-shm").unlink()
    remount(disk, "ro")
    try:
        check = _cli(data, "check")
        assert check.returncode == 3 and "Traceback" not in check.stderr
        assert "jangteo.db-wal" in check.stderr and "copy" in check.stderr.lower()
        out = _cli(data, "sales", "export", str(disk.parent / "sales.csv"))
        assert out.returncode == 3 and not (disk.parent / "sales.csv").exists()
    finally:
        remount(disk, "rw")
    assert _cli(data, "check").returncode == 0  # writable again: all ten are there


# -- 4. data from a newer Jangteo ------------------------------------------------------------

def test_data_from_a_newer_jangteo_is_refused_by_name_and_writes_no_backups(tmp_path, clock):
    data = tmp_path / "data"
    with Store(data, clock=clock) as st:
        _setup(st)
    con = sqlite3.connect(data / "jangteo.db")
    con.execute("UPDATE alembic_version SET version_num = '0042'")
    con.execute("UPDATE store_meta SET value = '0.9.0' WHERE key = 'written_by'")
    con.commit()
    con.close()
    for _ in range(3):
        with pytest.raises(StoreError) as e:
            Store(data, clock=clock)
        assert e.value.code == "newer_data"
    text = error_text(e.value, "en")
    assert "newer Jangteo (version 0.9.0)" in text and "Install version 0.9.0" in text
    assert "0.9.0" in error_text(e.value, "ko")
    assert not any((data / "backups").glob("*")) if (data / "backups").exists() else True
    cli = _cli(data, "check")
    assert cli.returncode == 3 and "Traceback" not in cli.stderr and "0.9.0" in cli.stderr


# -- 8. an empty file where a store was --------------------------------------------------------

def test_an_empty_file_where_a_store_was_is_damage_not_a_new_store(tmp_path, clock):
    data = tmp_path / "data"
    with Store(data, clock=clock) as st:
        pid = _setup(st)
        _sell(st, pid)
    (data / "jangteo.db").write_bytes(b"")
    with pytest.raises(StoreError) as e:
        Store(data, clock=clock)
    assert e.value.code == "empty_store_file"
    assert "jangteo restore" in error_text(e.value, "en")
    assert (data / "jangteo.db").stat().st_size == 0  # nothing was made over it
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "jangteo.db").write_bytes(b"")  # an empty file and nothing else: a new store
    with Store(fresh, clock=clock) as st:
        assert st.notes == []


# -- 7. a cut WAL ------------------------------------------------------------------------------

CUTTER = """
import os, signal, sys
from pathlib import Path
from datetime import datetime, timedelta, timezone
from pos.clock import SteppingClock
from pos.store import Store
from tests.pos.test_surroundings import _setup, _sell
data = Path(sys.argv[1])
clock = SteppingClock(datetime(2026, 11, 21, 10, 0, tzinfo=timezone(timedelta(hours=9))),
                      timedelta(seconds=1))
store = Store(data, clock=clock)
pid = _setup(store)
for _ in range(10):
    doc = _sell(store, pid)
    wal = os.path.getsize(data / "jangteo.db-wal")
    print(doc.receipt_no, wal, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_cut_wal_is_found_by_check_by_receipt_number_and_no_number_is_reused(tmp_path):
    data = tmp_path / "data"
    child = subprocess.run([sys.executable, "-c", CUTTER, str(data)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    sold = [line.split() for line in child.stdout.splitlines()]
    assert len(sold) == 10
    with open(data / "jangteo.db-wal", "r+b") as wal:  # the journal loses its last 4 sales
        wal.truncate(int(sold[5][1]))
    clock = SteppingClock(datetime(2026, 11, 21, 11, 0, tzinfo=KST), timedelta(seconds=1))
    with Store(data, clock=clock) as st:
        assert [n.code for n in st.notes] == ["receipts_missing"]
        said = error_text(st.notes[0], "en")
        assert sold[6][0] in said and sold[9][0] in said
        with st.unit_of_work(write=False) as uow:
            problems = run_checks(uow)
        codes = {p.code: p for p in problems}
        assert set(codes) == {"receipts_missing", "events_missing"}
        assert codes["receipts_missing"].detail.startswith(f"{sold[6][0]} .. {sold[9][0]}")
        pid = _setup(st)
        assert _sell(st, pid).receipt_no.endswith("-0011")  # never a number a customer holds
    cli = _cli(data, "check")
    assert cli.returncode == 1 and sold[6][0] in cli.stderr


# -- 6. the clock jumps back -------------------------------------------------------------------

def test_a_clock_gone_back_books_to_the_open_shifts_day_and_says_so(tmp_path):
    clock = SteppingClock(datetime(2026, 11, 21, 18, 0, tzinfo=KST), timedelta(seconds=1))
    data = tmp_path / "data"
    with Store(data, clock=clock) as st:
        pid = _setup(st)
        first = _sell(st, pid)
        assert first.clock_note is None
        clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=KST))  # a dead clock battery
        late = _sell(st, pid)
        assert late.business_day == "2026-11-21" == first.business_day
        assert late.receipt_no == first.receipt_no[:-4] + "0002"
        assert late.clock_note == ("clock_behind", {"now": "2026-11-20 09:00", "newest": "2026-11-21 18:00"})
        with st.unit_of_work() as uow:  # the shift's Z closes on its own day
            shift, figures = s.close_shift(uow, counted=6000)
            uow.commit()
        with st.unit_of_work() as uow:  # a new shift takes the clock's day, and says so
            opened = s.open_shift(uow, float_amount=0)
            uow.commit()
        assert opened["business_day"] == "2026-11-20" and opened["number"] == shift["number"] + 1
        assert opened["clock_note"][0] == "clock_behind"
    with Store(data, clock=clock) as st:  # the next start says it too
        assert [n.code for n in st.notes] == ["clock_behind"]
        assert "2026-11-21 18:00" in error_text(st.notes[0], "en")
    sell = _cli(data, "sell", "--item", "SOAP", "--pay", "cash")
    assert sell.returncode == 0
    # the subprocess runs on the real clock (2026-12 or later), days after the shift's day:
    # the sale stays in its shift's day, and the till says to close the shift
    assert "-20261120-" in sell.stdout and "close the shift" in sell.stderr


def test_the_cli_sale_says_the_clock_is_behind(tmp_path):
    data = tmp_path / "data"
    future = datetime.now(KST) + timedelta(days=2)
    clock = SteppingClock(future, timedelta(seconds=1))
    with Store(data, clock=clock) as st:
        pid = _setup(st)
        _sell(st, pid)  # a sale stamped two days ahead of the real clock
    sell = _cli(data, "sell", "--item", "SOAP", "--pay", "cash")
    assert sell.returncode == 0, sell.stderr
    assert "earlier than the newest sale" in sell.stderr
    assert future.strftime("%Y%m%d") in sell.stdout  # booked to the newest sale's day


# -- start-up speed: the full quick check only when the file may have changed -----------------

def test_the_full_quick_check_runs_only_after_an_unclean_close(tmp_path, clock, monkeypatch):
    import pos.store as store_module

    calls = []
    real = store_module.quick_check
    monkeypatch.setattr(store_module, "quick_check", lambda p: (calls.append(p), real(p)))
    data = tmp_path / "data"
    with Store(data, clock=clock) as st:
        _setup(st)
    assert json.loads((data / "jangteo.clean").read_text())["size"] > 0
    calls.clear()
    st = Store(data, clock=clock)  # left as closed: no full read
    assert calls == [] and not (data / "jangteo.clean").exists()
    pid = _setup(st)
    _sell(st, pid)
    st.engine.dispose()
    st._lock.release()  # as a killed process leaves it: no clean mark
    Store(data, clock=clock).close()
    assert len(calls) == 1
    calls.clear()
    kept = os.stat(data / "jangteo.db")  # touched behind the till's back
    os.utime(data / "jangteo.db", ns=(kept.st_atime_ns, kept.st_mtime_ns + 10**9))
    Store(data, clock=clock).close()
    assert len(calls) == 1


def test_a_mark_torn_by_a_power_cut_falls_back_on_its_other_slot(tmp_path):
    from pos.marks import MARK_NAME, SLOT, Mark, MarkFiles, read_marks

    data = tmp_path / "data"
    data.mkdir()
    files = MarkFiles(data)
    mark = Mark("store-1", "A01")
    for n in (1, 2, 3):
        mark.confirm(n, "2026-11-21", n)
        files.write(mark)
    files.close()
    path = data / MARK_NAME
    raw = bytearray(path.read_bytes())
    assert len(raw) == 2 * SLOT
    raw[0:40] = b"\xff" * 40  # slot 0 (the third mark) half written when the power went
    path.write_bytes(bytes(raw))
    inside = read_marks(data)[0]
    assert inside.days == {"2026-11-21": 2} and inside.seq == 2
    path.write_bytes(b"{" * 10000)  # garbage is no mark at all, and no crash
    assert all(m.days == {"2026-11-21": 3} for m in read_marks(data))  # the outside copy


def test_journal_lost_twice_never_gives_a_receipt_number_twice(tmp_path):
    data = tmp_path / "data"
    given: list[str] = []
    for _ in range(3):
        child = subprocess.run([sys.executable, "-c", CUTTER, str(data)], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
        assert child.returncode == -signal.SIGKILL, child.stderr
        given += [line.split()[0] for line in child.stdout.splitlines()]
        for name in ("jangteo.db-wal", "jangteo.db-shm"):  # every sale of the run is gone
            (data / name).unlink()
    assert len(given) == 30 and len(set(given)) == 30, given
    assert given[-1].endswith("-0030")


def test_a_laptop_in_another_time_zone_books_to_the_stalls_day(tmp_path):
    from datetime import timezone

    clock = SteppingClock(datetime(2026, 12, 1, 20, 0, tzinfo=KST), timedelta(seconds=1))
    data = tmp_path / "data"
    with Store(data, clock=clock) as st:
        pid = _setup(st)
        _sell(st, pid)
        with st.unit_of_work() as uow:
            s.close_shift(uow, counted=3000)  # the Z of 1 December is printed
            uow.commit()
        # 01:30 on 2 December in Seoul, read by a laptop set to Los Angeles (08:30 on 1 Dec)
        la = timezone(timedelta(hours=-8), "PST")
        clock.set(datetime(2026, 12, 2, 1, 30, tzinfo=KST).astimezone(la))
        with st.unit_of_work() as uow:
            shift = s.open_shift(uow, float_amount=0)
            uow.commit()
        assert shift["business_day"] == "2026-12-02"
        doc = _sell(st, pid)
        assert doc.business_day == "2026-12-02" and "-20261202-0001" in doc.receipt_no
        code, params = doc.clock_note
        assert code == "zone_differs"
        text = error_text(CodedError(code, **params), "en")
        assert "UTC-0800" in text and "UTC+0900" in text


def test_a_clock_a_year_ahead_cannot_move_a_sale_out_of_its_shift(tmp_path):
    clock = SteppingClock(datetime(2026, 12, 2, 10, 0, tzinfo=KST), timedelta(seconds=1))
    data = tmp_path / "data"
    with Store(data, clock=clock) as st:
        pid = _setup(st)
        clock.advance(timedelta(days=365))  # one reading from a clock gone mad
        odd = _sell(st, pid)
        assert odd.business_day == "2026-12-02" and odd.clock_note[0] == "clock_ahead"
        clock.advance(timedelta(days=-365))  # and right again
        doc = _sell(st, pid)
        assert doc.business_day == "2026-12-02" and "-20261202-0002" in doc.receipt_no


def test_a_shift_a_year_ahead_does_not_pull_later_shifts_into_that_year(tmp_path):
    clock = SteppingClock(datetime(2026, 12, 9, 9, 0, tzinfo=KST), timedelta(seconds=1))
    with Store(tmp_path / "data", clock=clock) as st:
        pid = _setup(st)
        clock.set(datetime(2027, 12, 10, 10, 0, tzinfo=KST))  # one shift on a mad clock
        with st.unit_of_work() as uow:
            s.close_shift(uow, counted=0)
            s.open_shift(uow, float_amount=0)
            uow.commit()
        _sell(st, pid)
        with st.unit_of_work() as uow:
            s.close_shift(uow, counted=3000)
            uow.commit()
        clock.set(datetime(2026, 12, 11, 10, 0, tzinfo=KST))  # right again
        with st.unit_of_work() as uow:
            shift = s.open_shift(uow, float_amount=0)
            uow.commit()
        assert shift["business_day"] == "2026-12-11" and shift["clock_note"][0] == "clock_behind"
        doc = _sell(st, pid)
        assert doc.business_day == "2026-12-11" and "-20261211-0001" in doc.receipt_no


def test_a_restored_store_never_numbers_a_shift_twice(tmp_path, clock):
    from pos import backups

    data = tmp_path / "data"
    with Store(data, clock=clock) as st:
        pid = _setup(st)  # shift 1
        with st.unit_of_work() as uow:
            s.close_shift(uow, counted=0)  # backup of shift 1
            uow.commit()
        for number in (2, 3):
            with st.unit_of_work() as uow:
                assert s.open_shift(uow, float_amount=0)["number"] == number
                uow.commit()
            _sell(st, pid)
            with st.unit_of_work() as uow:
                s.close_shift(uow, counted=3000)
                uow.commit()
    one = next(b for b in backups.list_backups(data / "backups") if b.number == 1)
    backups.restore(data, one.name)
    with Store(data, clock=clock) as st:
        with st.unit_of_work() as uow:
            shift = s.open_shift(uow, float_amount=0)
            uow.commit()
        assert shift["number"] == 4  # the Z reports #2 and #3 are in the organizer's hands


def test_two_stores_swapped_between_folders_are_not_called_empty(tmp_path, clock):
    x, y = tmp_path / "x", tmp_path / "y"
    for data, sales in ((x, 5), (y, 1)):
        with Store(data, clock=clock) as st:
            pid = _setup(st)
            for _ in range(sales):
                _sell(st, pid)
    for name in ("jangteo.db", "jangteo.clean"):  # the files swapped, the marks stay
        os.replace(x / name, tmp_path / name)
        os.replace(y / name, x / name)
        os.replace(tmp_path / name, y / name)
    with Store(y, clock=clock) as st:  # y's folder now holds x's store... and y's marks
        assert st.notes == []  # x's store is ahead of what y's folder had: nothing to say
    with Store(x, clock=clock) as st:
        assert [n.code for n in st.notes] == ["another_store_here"]
        text = error_text(st.notes[0], "en")
        assert "another store" in text and "empty" not in text
        pid = _setup(st)
        assert _sell(st, pid).receipt_no.endswith("-0006")  # after the other store's 0005
        with st.unit_of_work(write=False) as uow:
            assert run_checks(uow) == []  # the other store's numbers are not this one's losses


def test_a_folder_copied_and_used_from_both_places_never_gives_a_number_twice(tmp_path,
                                                                               clock):
    original, copy = tmp_path / "O", tmp_path / "C"
    with Store(original, clock=clock) as st:
        pid = _setup(st)
        _sell(st, pid)
    shutil.copytree(original, copy)  # as the README's advice for a read-only stick goes
    with Store(copy, clock=clock) as st:
        given = [_sell(st, pid).receipt_no for _ in range(2)]
    with Store(original, clock=clock) as st:
        assert [n.code for n in st.notes] == ["store_used_elsewhere"]
        assert str(copy) in error_text(st.notes[0], "en") and given[-1] in \
            error_text(st.notes[0], "en")
        assert _sell(st, pid).receipt_no.endswith("-0004")
        with st.unit_of_work(write=False) as uow:
            problems = run_checks(uow)
    # honest: the copy's events used numbers this folder's events now use too (the server
    # will see both); receipts are not missing, they are in the copy
    assert [p.code for p in problems] == ["events_missing"]

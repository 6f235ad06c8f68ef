"""What the GUI says when the store's surroundings go wrong: the same sentences as the command
line, in dialogs and the status line, never a traceback."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import timedelta

from pos import services as svc
from pos.domain import Tender
from pos.store import Store
from tests.conftest import ROOT, in_shift
from tests.ui.conftest import shot


def test_the_gui_start_refuses_newer_data_with_the_command_lines_sentence(tmp_path, qtbot):
    from ui.app import application, open_store
    from ui.texts import set_language

    application()
    data = tmp_path / "data"
    Store(data).close()
    con = sqlite3.connect(data / "jangteo.db")
    con.execute("UPDATE alembic_version SET version_num = '0042'")
    con.execute("UPDATE store_meta SET value = '0.9.0' WHERE key = 'written_by'")
    con.commit()
    con.close()
    cli = subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", str(data), "--lang",
                          "ko", "check"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 3
    said = []
    set_language("ko")
    assert open_store(data, said.append) is None
    assert said == [cli.stderr.strip()]
    assert "0.9.0" in said[0] and "Traceback" not in said[0]


def test_the_gui_start_turns_an_unexpected_error_into_a_sentence(tmp_path, monkeypatch):
    import pos.store as store_module
    from ui.app import open_store
    from ui.texts import set_language

    def broken(*_a, **_k):
        raise KeyError("boom")

    monkeypatch.setattr(store_module, "migrate", broken)
    said = []
    set_language("en")
    assert open_store(tmp_path / "data", said.append) is None
    assert "cannot be created or opened" in said[0] and "KeyError" in said[0]


def test_the_start_tells_of_missing_receipts_once(tmp_path, qtbot, answers):
    from ui.app import application, open_window, tell_start_notes

    application()
    data = tmp_path / "data"
    with Store(data) as st:
        from pos.demo import load_demo_catalog

        load_demo_catalog(st)
        with st.unit_of_work() as uow:
            svc.open_shift(uow, float_amount=0)
            pid = svc.list_products(uow, active_only=True)[0]
            uow.commit()
        numbers = []
        for n in range(3):
            if n == 2:  # a copy before the third sale, as a backup would be
                src, out = sqlite3.connect(data / "jangteo.db"), sqlite3.connect(
                    tmp_path / "older.db")
                src.backup(out)
                src.close()
                out.close()
            with st.unit_of_work() as uow:
                in_shift(uow)
                doc = svc.record_sale(uow, items=[svc.SaleItem(pid["id"])],
                                      tenders=[Tender("cash", pid["price"])])
                uow.commit()
            numbers.append(doc.receipt_no)
    # the older copy put back by hand: the third receipt is no longer in the file
    shutil.copy(tmp_path / "older.db", data / "jangteo.db")
    store = Store(data)
    try:
        window = open_window(store, "en")
        qtbot.addWidget(window)
        tell_start_notes(store, window)
        assert len(answers.errors) == 1 and numbers[2] in answers.errors[0]
    finally:
        window.close()
        store.close()
    with Store(data) as again:
        assert again.notes == []  # told once: the floor is kept in the store


def test_a_sale_with_the_clock_behind_says_so_in_the_status_line_and_once_in_a_dialog(
        qtbot, window, demo_store, answers, clock):
    sell = window.sell
    product = sell.products[0]
    sell.cart.add(product)
    clock.advance(timedelta(hours=5))
    first = sell.record([Tender("cash", sell.cart.priced().totals.total)])
    assert first.clock_note is None and answers.errors == []
    clock.set(clock.now() - timedelta(days=1))  # the clock jumps back a day
    for _ in range(2):
        sell.cart.add(product)
        doc = sell.record([Tender("cash", sell.cart.priced().totals.total)])
        assert doc.business_day == first.business_day
        assert doc.clock_note[0] == "clock_behind"
    assert "earlier than the newest sale" in sell.message.text() \
        or "최근 판매" in sell.message.text()
    assert len(answers.errors) == 1  # a dialog once, the status line every time
    shot(window, "sale-with-clock-behind")

"""History (find, void, refund), catalog and settings screens, first start, screenshots."""

from __future__ import annotations

import os
import subprocess
import sys

from pos import services as svc
from pos.domain import DocKind, Tender
from tests.conftest import ROOT, in_shift
from tests.ui.conftest import shot, when_modal
from ui.catalog_screen import EnterpriseDialog, ProductDialog
from ui.history import RefundDialog
from ui.pay_dialog import PayDialog
from ui.qt import QDialog, Qt
from ui.texts import set_language


def sell_two_lines(store):
    with store.unit_of_work() as uow:
        products = [p for p in svc.list_products(uow) if p["tax_class"] == "taxable"][:2]
        in_shift(uow)
        doc = svc.record_sale(uow, items=[svc.SaleItem(products[0]["id"], 2),
                                          svc.SaleItem(products[1]["id"], 1)],
                              tenders=[Tender("card", products[0]["price"] * 2 + products[1]["price"],
                                              approval_no="30001234")])
        uow.commit()
    return doc


def test_refund_one_line_from_history(qtbot, window, demo_store):
    doc = sell_two_lines(demo_store)
    qtbot.keyClick(window, Qt.Key_F3)
    history = window.screen("history")
    assert window.stack.currentWidget() is history
    assert history.rows[0]["receipt_no"] == doc.receipt_no
    assert doc.receipt_no in history.detail.toPlainText()
    assert "#30001234" in history.detail.toPlainText()
    seen = {}

    def refund(dialog: RefundDialog):
        assert dialog.spins[0].maximum() == 2 and dialog.spins[1].maximum() == 1
        dialog.spins[0].setValue(1)
        seen["total"] = dialog.total.text()
        idx = dialog.method.findData("cash")
        dialog.method.setCurrentIndex(idx)
        dialog.reason.setText("고객 변심")
        dialog.ok_button.click()

    state = when_modal(qtbot, RefundDialog, refund)
    qtbot.mouseClick(history.refund_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    unit = doc.lines[0].unit_price
    assert seen["total"] == f"환불 금액 {unit:,}원"
    with demo_store.unit_of_work(write=False) as uow:
        original = svc.get_document(uow, sale_id=doc.id)
        refund = svc.get_document(uow, receipt_no=original.refunds[0])
        left = svc.refundable_lines(uow, sale_id=doc.id)
    assert refund.kind == DocKind.REFUND and refund.totals.total == -unit
    assert [(p.method, p.amount) for p in refund.payments] == [("cash", -unit)]
    assert [r.remaining for r in left] == [1, 1]
    assert refund.receipt_no in history.message.text()
    assert history.current.id == refund.id
    # the partly refunded sale can no longer be voided, only refunded further
    history.find(doc.receipt_no)
    assert history.current.id == doc.id
    assert not history.void_btn.isEnabled() and history.refund_btn.isEnabled()


def test_void_from_history_after_finding_the_receipt_by_scanning_it(qtbot, window, demo_store,
                                                                     answers):
    doc = sell_two_lines(demo_store)
    qtbot.keyClick(window, Qt.Key_F3)
    history = window.screen("history")
    history.search.setFocus()
    qtbot.keyClicks(history.search, doc.receipt_no)
    qtbot.keyClick(history.search, Qt.Key_Return)
    assert history.current.id == doc.id
    qtbot.mouseClick(history.void_btn, Qt.LeftButton)
    assert answers.confirms and doc.receipt_no in answers.confirms[-1]
    with demo_store.unit_of_work(write=False) as uow:
        original = svc.get_document(uow, sale_id=doc.id)
        void = svc.get_document(uow, receipt_no=original.refunds[0])
    assert void.kind == DocKind.VOID and void.totals.total == -doc.totals.total
    assert [(p.method, p.amount, p.approval_no) for p in void.payments] == [
        ("card", -doc.totals.total, "30001234")]
    history.find("A01-20990101-0001")
    assert "찾을 수 없습니다" in history.message.text()


def test_catalog_edits_explain_themselves_and_reach_the_till(qtbot, window, demo_store):
    qtbot.keyClick(window, Qt.Key_F5)
    catalog = window.screen("catalog")
    dialog = ProductDialog(demo_store, None, catalog)
    qtbot.addWidget(dialog)
    dialog.name.setText("쑥떡")
    dialog.price.setText("3500.5")
    dialog.save()
    assert "원 단위 정수" in dialog.error.text()
    dialog.price.setText("3,500")
    dialog.barcodes.setText("8800000000017|8800000000024")
    dialog.category.setCurrentText("떡")
    dialog.save()
    assert dialog.saved_id is not None and dialog.result() == QDialog.Accepted
    # the commit itself reaches the Sell screen (the store's hub), nothing has to be told
    qtbot.waitUntil(lambda: any(p["name"] == "쑥떡" for p in window.sell.products), timeout=5000)
    assert window.sell.index.by_code("8800000000024")["name"] == "쑥떡"
    enterprise = EnterpriseDialog(demo_store, None, catalog)
    qtbot.addWidget(enterprise)
    enterprise.name.setText("새싹공방")
    enterprise.bizno.setText("123-45-67890")
    enterprise.save()
    assert "사업자등록번호가 올바르지 않습니다" in enterprise.error.text()
    enterprise.bizno.setText("220-81-62517")
    enterprise.commission.setText("12.5")
    assert "100,000원" in enterprise.mandatory.text()
    enterprise.mandatory.setChecked(True)
    enterprise.terminal.setCurrentIndex(enterprise.terminal.findData("own"))
    enterprise.save()
    with demo_store.unit_of_work(write=False) as uow:
        saved = svc.find_enterprise(uow, ref="새싹공방")
    assert (saved["bizno"], saved["commission_bp"]) == ("220-81-62517", 1250)
    assert (saved["cash_receipt_mandatory"], saved["card_terminal"]) == (True, "own")


def test_catalog_import_and_export_use_the_cli_code(qtbot, window, demo_store, answers, tmp_path):
    catalog = window.screen("catalog")
    out = tmp_path / "catalog.xlsx"
    catalog.export_file(str(out))
    assert out.exists() and "40" in answers.infos[-1]
    bad = tmp_path / "bad.csv"
    bad.write_text("상품명,가격,업체\n쑥떡,3000,햇살마을기업\n깨진,-1,햇살마을기업\n", encoding="cp949")
    answers.confirm_answer = False
    catalog.import_file(str(bad))
    assert "3행 '가격' 열" in answers.confirms[-1]
    with demo_store.unit_of_work(write=False) as uow:
        assert not any(p["name"] == "쑥떡" for p in svc.list_products(uow))
    answers.confirm_answer = True
    catalog.import_file(str(bad))
    assert "1개 추가" in answers.infos[-1]
    qtbot.waitUntil(lambda: any(p["name"] == "쑥떡" for p in window.sell.products), timeout=5000)
    # an enterprise the till does not know is created, named in the report, and listed
    new = tmp_path / "new.csv"
    new.write_text("상품명,가격,업체,사업자등록번호,과세유형\n들기름,9000,새봄협동조합,220-81-62517,간이\n",
                   encoding="cp949")
    catalog.import_file(str(new))
    assert "새로 등록한 업체 1곳: 새봄협동조합" in answers.infos[-1]
    assert any(e["name"] == "새봄협동조합" for e, _cells in catalog.enterprises.rows)
    qtbot.waitUntil(lambda: window.sell.enterprise.findText("새봄협동조합") >= 0, timeout=5000)


def test_settings_change_payment_methods_and_identity(qtbot, window, demo_store):
    qtbot.keyClick(window, Qt.Key_F6)
    settings = window.screen("settings")
    codes = [m.code for m in settings.methods]
    settings.active_boxes[codes.index("token")].setChecked(False)
    onnuri = codes.index("onnuri")
    settings.policy_boxes[onnuri].setCurrentIndex(settings.policy_boxes[onnuri].findData("none"))
    settings.store_fields["name"].setText("성수 공동판매장")
    settings.receipt_mode.setCurrentIndex(settings.receipt_mode.findData("always"))
    settings.seller_model.setCurrentIndex(settings.seller_model.findData("consignment"))
    settings.save()
    with demo_store.unit_of_work(write=False) as uow:
        methods = svc.payment_methods(uow)
        assert svc.get_setting(uow, "store")["name"] == "성수 공동판매장"
        from pos.services import cash_receipts

        assert cash_receipts.rules(uow).seller_model == "consignment"
    assert not methods["token"].active and methods["onnuri"].change_policy == "none"
    window.show_screen("sell")
    window.sell.add_product(window.sell.products[0])
    seen = {}

    def look(dialog: PayDialog):
        seen["methods"] = list(dialog.method_buttons)
        seen["receipt"] = dialog.receipt.isChecked()
        dialog.reject()

    when_modal(qtbot, PayDialog, look)
    window.sell.pay()
    assert "token" not in seen["methods"] and "onnuri" in seen["methods"]
    assert seen["receipt"] is True


def test_first_start_offers_the_demo(qtbot, store):
    from ui.app import first_start

    asked = []
    first_start(store, lambda path: asked.append(path) or False)
    with store.unit_of_work(write=False) as uow:
        assert svc.list_products(uow) == []
    first_start(store, lambda path: asked.append(path) or True)
    with store.unit_of_work(write=False) as uow:
        assert len(svc.list_products(uow)) == 40
    first_start(store, lambda path: asked.append(path) or True)
    assert len(asked) == 2 and asked[0] == str(store.data_dir)


def test_screenshots_of_sell_pay_and_history_in_both_languages(qtbot, demo_store, answers):
    from ui.app import application, open_window

    application()
    sell_two_lines(demo_store)
    for lang in ("ko", "en"):
        window = open_window(demo_store, lang)
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        for p in window.sell.products[:3]:
            window.sell.add_product(p)
        paths = [shot(window, f"sell-{lang}")]
        total = window.sell.cart.priced().totals.total
        with demo_store.unit_of_work(write=False) as uow:
            methods = [m for m in svc.payment_methods(uow).values() if m.active]
        pay = PayDialog(total, methods, parent=window)
        qtbot.addWidget(pay)
        pay.add_tender("local_voucher", 10000)
        pay.show()
        qtbot.waitExposed(pay)
        paths.append(shot(pay, f"pay-{lang}"))
        pay.reject()
        window.show_screen("history")
        paths.append(shot(window, f"history-{lang}"))
        for path in paths:
            assert path.stat().st_size > 20_000
        assert ("결제" if lang == "ko" else "Pay") in window.sell.pay_btn.text()
        window.sell.cart.clear()
        window.close()
    set_language("ko")


def test_without_a_screen_jangteo_explains_the_command_line(tmp_path):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"], "LANG": "en_US.UTF-8"}
    out = subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(tmp_path / "d")],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 2, out.stderr  # not a start: a script sees it failed
    assert "No screen" in out.stderr and "needs a screen" in out.stderr
    for command in ("print", "report", "sync", "selftest", "sell", "demo"):
        assert f"    {command} " in out.stderr  # every command in the help, the GUI's too
    assert not (tmp_path / "d").exists()  # nothing loaded, no folder made


def test_the_receipt_logo_is_kept_in_the_data_folder(qtbot, window, demo_store, answers,
                                                     tmp_path):
    from PIL import Image

    from pos.domain import Tender
    from printing.receipt import LOGO_FILE, receipt_for

    picture = tmp_path / "우리로고.png"
    Image.new("L", (1200, 300), 0).save(picture)
    not_a_picture = tmp_path / "logo.png"
    not_a_picture.write_text("no picture here")
    qtbot.keyClick(window, Qt.Key_F6)
    settings = window.screen("settings")
    settings.receipt_logo.setText(str(not_a_picture))
    settings.save()
    assert answers.errors == [f"로고는 PNG, JPG 또는 BMP 그림이어야 합니다: {not_a_picture}"]
    with demo_store.unit_of_work(write=False) as uow:
        assert not svc.get_setting(uow, "receipt_logo")  # nothing half-saved
    settings.receipt_logo.setText(str(picture))
    settings.save()
    picture.unlink()  # the vendor tidies the desktop; the receipts keep their logo
    kept = demo_store.data_dir / LOGO_FILE
    with Image.open(kept) as img:
        assert img.size == (576, 144)  # scaled to the paper's width
    with demo_store.unit_of_work() as uow:
        assert svc.get_setting(uow, "receipt_logo") == LOGO_FILE
        product = svc.list_products(uow)[0]
        in_shift(uow)
        doc = svc.record_sale(uow, items=[svc.SaleItem(product["id"])],
                              tenders=[Tender("card", product["price"])])
        uow.commit()
    with demo_store.unit_of_work(write=False) as uow:
        assert receipt_for(uow, sale_id=doc.id).logo == str(kept)
    settings.save()  # saving again without a new picture leaves the kept one alone
    assert answers.errors == [f"로고는 PNG, JPG 또는 BMP 그림이어야 합니다: {not_a_picture}"]


def test_goods_received_counted_and_returned_from_the_catalog_screen(qtbot, window, demo_store,
                                                                      answers):
    from tests.ui.conftest import shot
    from ui.qt import QPushButton, Qt

    window.show_screen("catalog")
    catalog = window.screen("catalog")
    buttons = {b.text(): b for b in catalog.findChildren(QPushButton)}
    catalog.product_view.selectRow(0)
    product = catalog.products.rows[0][0]
    answers.ints = [10]
    qtbot.mouseClick(buttons["입고…"], Qt.LeftButton)
    assert "+10개, 재고 10개" in answers.infos[-1]
    answers.ints = [7]
    qtbot.mouseClick(buttons["재고 조사…"], Qt.LeftButton)
    assert "-3개, 재고 7개" in answers.infos[-1]
    answers.ints = [9]  # more than there is: said, nothing recorded
    qtbot.mouseClick(buttons["업체 반품…"], Qt.LeftButton)
    assert "재고가 7개인데 9개를" in answers.errors[-1]
    answers.ints = [2]
    qtbot.mouseClick(buttons["업체 반품…"], Qt.LeftButton)
    assert "-2개, 재고 5개" in answers.infos[-1]
    row = next(r for r in catalog.products.rows if r[0]["id"] == product["id"])
    assert row[1][6] == "5"  # the stock column
    qtbot.waitUntil(lambda: next(p for p in window.sell.products
                                 if p["id"] == product["id"])["stock"] == 5, timeout=3000)
    shot(window, "catalog-stock")


def test_a_refund_picks_how_money_goes_back_confirms_and_the_list_shows_each_state(
        qtbot, window, demo_store, answers):
    """A sale paid by a paper voucher is refunded in cash by default (a voucher is not given
    back as change), the vendor confirms the amount and method, the list marks the sale, and a
    voided sale cannot be refunded."""
    with demo_store.unit_of_work() as uow:
        product = next(p for p in svc.list_products(uow) if 5000 <= p["price"] <= 20000)
        voucher = svc.record_sale(uow, items=[svc.SaleItem(product["id"], 2)],
                                  tenders=[Tender("onnuri", product["price"] * 2)])
        card = svc.record_sale(uow, items=[svc.SaleItem(product["id"])],
                               tenders=[Tender("card", product["price"], approval_no="1234")])
        uow.commit()
    window.show_screen("history")
    history = window.screen("history")
    history.find(voucher.receipt_no)
    seen = {}

    def look(dialog: RefundDialog):
        seen["method"] = dialog.method.currentData()
        seen["buttons"] = (dialog.ok_button.text(),
                           [b.text() for b in dialog.findChildren(type(dialog.ok_button))])
        dialog.spins[0].setValue(1)
        dialog.ok_button.click()

    answers.confirm_answer = False  # the confirmation is the last word: no, nothing recorded
    state = when_modal(qtbot, RefundDialog, look)
    qtbot.mouseClick(history.refund_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    assert seen["method"] == "cash"
    assert seen["buttons"][0] == "환불하기" and "닫기" in seen["buttons"][1]
    assert not any(b == "취소" for b in seen["buttons"][1])
    assert answers.confirms[-1] == (f"{voucher.receipt_no}에서 {product['price']:,}원을(를) "
                                    "현금(으)로 돌려줄까요?")
    with demo_store.unit_of_work(write=False) as uow:
        assert svc.get_document(uow, sale_id=voucher.id).refunds == []
    answers.confirm_answer = True
    state = when_modal(qtbot, RefundDialog, look)
    qtbot.mouseClick(history.refund_btn, Qt.LeftButton)
    assert state["done"] and state["error"] is None, state["error"]
    with demo_store.unit_of_work(write=False) as uow:
        refund = svc.get_document(uow, receipt_no=svc.get_document(
            uow, sale_id=voucher.id).refunds[0])
    assert [(p.method, p.amount) for p in refund.payments] == [("cash", -product["price"])]

    history.find(card.receipt_no)  # a card sale goes back to the card by default
    state = when_modal(qtbot, RefundDialog, lambda d: (seen.update(method=d.method.currentData()),
                                                        d.reject()))
    qtbot.mouseClick(history.refund_btn, Qt.LeftButton)
    assert state["done"] and seen["method"] == "card"
    qtbot.mouseClick(history.void_btn, Qt.LeftButton)
    assert history.void_btn.text() == "판매 취소"
    history.find(card.receipt_no)
    assert not history.refund_btn.isEnabled() and not history.void_btn.isEnabled()

    history.reload()
    col = [history.table.horizontalHeaderItem(c).text()
           for c in range(history.table.columnCount())].index("상태")
    states = {history.table.item(r, 0).text(): history.table.item(r, col).text()
              for r in range(history.table.rowCount())}
    assert states[voucher.receipt_no] == "일부 환불됨" and states[card.receipt_no] == "판매 취소됨"
    assert states[refund.receipt_no] == ""
    assert history.table.item(
        [history.table.item(r, 0).text() for r in range(history.table.rowCount())].index(
            card.receipt_no), 0).font().strikeOut()
    shot(window, "history-states-ko")

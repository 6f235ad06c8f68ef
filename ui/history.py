"""Sales history: the day's documents, search by receipt number or scanned barcode, details,
void and refund."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datetime import date, datetime

from pos import services as svc
from pos.domain import DocKind, DomainError, Refundable, price_refund, refund_lines
from pos.store import StoreError
from ui import prompts
from ui.qt import (QAbstractItemView, QComboBox, QDate, QDateEdit, QDialog, QDialogButtonBox,
                   QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                   QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, Qt, QTextEdit,
                   QVBoxLayout, QWidget, Signal)
from ui.texts import explain, language, t, won


if TYPE_CHECKING:
    from ui.context import TillContext


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().setDefaultSectionSize(32)
    return table


class RefundDialog(QDialog):
    """Choose how many of each line to give back and by which method."""

    def __init__(self, doc, refundable: list[Refundable], methods, parent=None):
        super().__init__(parent)
        self.setWindowTitle(t("refund_title", receipt=doc.receipt_no))
        self.refundable = refundable
        self.answer = None
        layout = QVBoxLayout(self)
        self.table = _table([t("cart_name"), t("cart_qty"), t("cart_amount"), t("refund_left"),
                             t("refund_qty")])
        self.table.setRowCount(len(refundable))
        self.spins: list[QSpinBox] = []
        for row, r in enumerate(refundable):
            for col, text in enumerate((r.line.name, str(r.line.qty), won(r.line.amount),
                                        str(r.remaining))):
                self.table.setItem(row, col, QTableWidgetItem(text))
            spin = QSpinBox()
            spin.setRange(0, r.remaining)
            spin.setEnabled(r.remaining > 0)
            spin.setMinimumHeight(32)
            spin.valueChanged.connect(self._update)
            self.table.setCellWidget(row, 4, spin)
            self.spins.append(spin)
        layout.addWidget(self.table)
        form = QFormLayout()
        self.method = QComboBox()
        original = doc.payments[0].method if doc.payments else None
        for m in methods.values():
            if m.active:
                self.method.addItem(m.label(language()), m.code)
        if original is not None and self.method.findData(original) >= 0:
            self.method.setCurrentIndex(self.method.findData(original))
        self.reason = QLineEdit()
        form.addRow(t("refund_method"), self.method)
        form.addRow(t("refund_reason"), self.reason)
        layout.addLayout(form)
        self.total = QLabel()
        layout.addWidget(self.total)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        layout.addWidget(buttons)
        self.resize(640, 420)
        self._update()

    def quantities(self) -> dict[int, int]:
        return {r.line.line_no: s.value() for r, s in zip(self.refundable, self.spins) if s.value()}

    def _update(self) -> None:
        wanted = self.quantities()
        amount = 0
        if wanted:
            amount = price_refund(refund_lines(self.refundable, wanted)).totals.total
        self.total.setText(t("refund_total", amount=won(-amount)))
        self.ok_button.setEnabled(bool(wanted))

    def _accept(self) -> None:
        self.answer = (self.quantities(), self.method.currentData(), self.reason.text().strip())
        self.accept()

    def run(self):
        """({line_no: qty}, method, reason), or None when cancelled."""
        self.exec()
        return self.answer


class HistoryScreen(QWidget):
    changed = Signal()

    def __init__(self, till: "TillContext", parent=None):
        super().__init__(parent)
        self.till = till
        self.store = till.store
        self.printer = till.printer
        self.sync = till.sync
        self.rows: list[dict] = []
        self.current = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setMinimumHeight(40)
        self.day.dateChanged.connect(self.reload)
        today = QPushButton(t("btn_today"))
        today.setMinimumHeight(40)
        today.clicked.connect(self.show_today)
        self.search = QLineEdit()
        self.search.setPlaceholderText(t("history_search"))
        self.search.setMinimumHeight(40)
        self.search.returnPressed.connect(lambda: self.find(self.search.text()))
        top.addWidget(self.day)
        top.addWidget(today)
        top.addWidget(self.search, 1)
        layout.addLayout(top)
        split = QSplitter(Qt.Horizontal)
        self.table = _table([t("col_receipt"), t("col_time"), t("col_kind"), t("col_total"),
                             t("col_payments"), t("col_note")])
        self.table.itemSelectionChanged.connect(self._selected)
        split.addWidget(self.table)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.detail = QTextEdit()
        self.detail.setReadOnly(True)
        rv.addWidget(self.detail, 1)
        buttons = QHBoxLayout()
        self.void_btn = QPushButton(t("btn_void"))
        self.refund_btn = QPushButton(t("btn_refund"))
        self.reprint_btn = QPushButton(t("btn_reprint"))
        self.preview_btn = QPushButton(t("btn_preview"))
        for b, slot in ((self.void_btn, self.void), (self.refund_btn, self.refund),
                        (self.reprint_btn, self.reprint), (self.preview_btn, self.preview)):
            b.setMinimumHeight(48)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        rv.addLayout(buttons)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        self.message = QLabel("")
        layout.addWidget(self.message)
        self.show_today()

    def show_today(self) -> None:
        today = self.store.clock.now().date()
        self.day.setDate(QDate(today.year, today.month, today.day))
        self.reload()

    def selected_day(self) -> str:
        d = self.day.date()
        return date(d.year(), d.month(), d.day()).isoformat()

    def reload(self, select_id: str | None = None) -> None:
        day = self.selected_day()
        with self.store.unit_of_work(write=False) as uow:
            self.rows = svc.list_documents(uow, day_from=day, day_to=day)
            methods = svc.payment_methods(uow)
            pays = {sale_id: [methods[m].label(language()) if m in methods else m for m in codes]
                    for sale_id, codes in svc.payment_methods_of(
                        uow, sale_ids=[r["id"] for r in self.rows]).items()}
            originals = {r["id"]: r["receipt_no"] for r in self.rows}
        self.rows.reverse()  # newest first
        self.table.clearSelection()
        self.table.setRowCount(len(self.rows))
        for row, r in enumerate(self.rows):
            note = ""
            if r["original_id"]:
                note = t("original", receipt=originals.get(r["original_id"], "…"))
            cells = [r["receipt_no"], datetime.fromisoformat(r["created_at"]).strftime("%H:%M:%S"),
                     t(f"kind_{r['kind']}"), won(r["total"]), " + ".join(pays.get(r["id"], [])),
                     note]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, col, item)
        target = next((i for i, r in enumerate(self.rows) if r["id"] == select_id), None)
        if target is not None:
            self.table.selectRow(target)
        elif self.rows:
            self.table.selectRow(0)
        else:
            self.current = None
            self.detail.clear()
            self._buttons()

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        r = self.rows[rows[0].row()]
        with self.store.unit_of_work(write=False) as uow:
            self.current = svc.get_document(uow, sale_id=r["id"])
            methods = svc.payment_methods(uow)
        self.detail.setPlainText(self._describe(self.current, methods))
        self._buttons()

    def _buttons(self) -> None:
        is_sale = self.current is not None and self.current.kind == DocKind.SALE
        self.void_btn.setEnabled(is_sale and not self.current.refunds)
        self.refund_btn.setEnabled(is_sale)
        self.reprint_btn.setEnabled(self.current is not None)
        self.preview_btn.setEnabled(self.current is not None)

    def _describe(self, doc, methods) -> str:
        out = [f"{doc.receipt_no}  ·  {t(f'kind_{doc.kind}')}",
               datetime.fromisoformat(doc.created_at).strftime("%Y-%m-%d %H:%M:%S"), ""]
        for ln in doc.lines:
            disc = ln.line_discount + ln.receipt_discount
            out.append(f"{ln.line_no}. {ln.name}  ({ln.enterprise_name})")
            out.append(f"     {won(ln.unit_price)} × {ln.qty}"
                       + (f"  {t('cart_discount')} {won(-disc)}" if disc else "")
                       + f"  = {won(ln.amount)}")
        tt = doc.totals
        out += ["", f"{t('total')}  {won(tt.total)}",
                t("vat_line", taxable=won(tt.taxable_total), vat=won(tt.vat),
                  exempt=won(tt.exempt_total)), ""]
        for p in doc.payments:
            m = methods.get(p.method)
            label = m.label(language()) if m else p.method
            extra = f"  ({t('pay_tendered')} {won(p.tendered)}, {t('pay_change')} {won(p.change)})" \
                if p.change else ""
            approval = f"  #{p.approval_no}" if p.approval_no else ""
            out.append(f"{label}  {won(p.amount)}{extra}{approval}")
        if doc.original_receipt_no:
            out += ["", t("original", receipt=doc.original_receipt_no)]
        if doc.refunds:
            out += ["", t("refunded_by", receipts=", ".join(doc.refunds))]
        if doc.reason:
            out.append(doc.reason)
        return "\n".join(out)

    # -- actions --------------------------------------------------------------------------------
    def on_scan(self, code: str) -> None:
        self.find(code)

    def find(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        try:
            with self.store.unit_of_work(write=False) as uow:
                doc = svc.get_document(uow, receipt_no=text)
        except DomainError:
            self.message.setText(t("not_found_receipt", value=text))
            return
        d = date.fromisoformat(doc.business_day)
        self.day.blockSignals(True)
        self.day.setDate(QDate(d.year, d.month, d.day))
        self.day.blockSignals(False)
        self.search.clear()
        self.message.setText("")
        self.reload(select_id=doc.id)

    def void(self) -> None:
        doc = self.current
        if doc is None or not prompts.confirm(self, t("confirm_void", receipt=doc.receipt_no,
                                                      total=won(doc.totals.total))):
            return
        self._return(lambda uow: svc.void_sale(uow, sale_id=doc.id), "done_void")

    def refund(self) -> None:
        doc = self.current
        if doc is None:
            return
        with self.store.unit_of_work(write=False) as uow:
            refundable = svc.refundable_lines(uow, sale_id=doc.id)
            methods = svc.payment_methods(uow)
        answer = self.refund_dialog(doc, refundable, methods)
        if not answer:
            return
        quantities, method, reason = answer
        self._return(lambda uow: svc.refund_sale(uow, sale_id=doc.id, quantities=quantities,
                                                 method=method, reason=reason), "done_refund")

    def refund_dialog(self, doc, refundable, methods):
        return RefundDialog(doc, refundable, methods, self).run()

    def _return(self, action, done_key: str) -> None:
        try:
            with self.store.unit_of_work() as uow:
                back = action(uow)
                uow.commit()
        except (DomainError, StoreError) as e:
            prompts.error(self, explain(e))
            return
        self.message.setText(t(done_key, receipt=back.receipt_no, total=won(back.totals.total)))
        self.reload(select_id=back.id)
        self.changed.emit()


    def reprint(self) -> None:
        if self.current is None:
            return
        if self.printer is None or self.printer.reprint(self.current.id) is None:
            prompts.info(self, t("reprint_no_printer"))
            return
        self.message.setText(t("printer_queued"))

    def preview(self):
        """The receipt as it would print, drawn from the bytes the printer would get."""
        if self.current is None or self.printer is None:
            return None
        from ui.printer import PreviewDialog

        image = self.printer.preview_image(self.current.id, copy=True)
        dialog = PreviewDialog(image, self.current.receipt_no, self)
        return self.show_preview(dialog)

    def show_preview(self, dialog):
        dialog.run()
        return dialog

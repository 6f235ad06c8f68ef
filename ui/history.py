"""Sales history: the day's documents, search by receipt number or scanned barcode, details,
void and refund."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datetime import date, datetime

from pos import services as svc
from pos.domain import (DocKind, DomainError, Refundable, TaxBreakdown, price_refund,
                        refund_lines, refund_method_for)
from pos.ids import parse_receipt_no
from pos.services import sales as sales_svc
from pos.store import StoreError
from ui import prompts
from ui.qt import (QAbstractItemView, QColor, QComboBox, QDate, QDateEdit, QDialog, QDialogButtonBox,
                   QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                   QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, Qt, QTextEdit,
                   QVBoxLayout, QWidget, Signal)
from ui.texts import explain, language, t, tax_line, won


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


def _shown(text: str) -> str:
    """What the vendor typed, said back: printable, at most 40 characters."""
    clean = "".join(c if c.isprintable() else "�" for c in text)
    return clean if len(clean) <= 40 else clean[:39] + "…"


def _money_back(dialog, layout, methods, preferred: str | None) -> None:
    """The foot of a refund dialog: how the money goes back (`preferred` first when it can),
    the reason, the total, Refund and Close (`dialog._accept`)."""
    form = QFormLayout()
    dialog.method = QComboBox()
    for m in methods.values():
        if m.active:
            dialog.method.addItem(m.label(language()), m.code)
    if preferred is not None and dialog.method.findData(preferred) >= 0:
        dialog.method.setCurrentIndex(dialog.method.findData(preferred))
    dialog.reason = QLineEdit()
    form.addRow(t("refund_method"), dialog.method)
    form.addRow(t("refund_reason"), dialog.reason)
    layout.addLayout(form)
    dialog.total = QLabel()
    layout.addWidget(dialog.total)
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog._accept)
    buttons.rejected.connect(dialog.reject)
    dialog.ok_button = buttons.button(QDialogButtonBox.Ok)
    dialog.ok_button.setText(t("btn_refund_go"))
    buttons.button(QDialogButtonBox.Cancel).setText(t("btn_close"))  # "취소" would read as a void
    for b in (dialog.ok_button, buttons.button(QDialogButtonBox.Cancel)):
        b.setMinimumHeight(48)
    layout.addWidget(buttons)


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
        _money_back(self, layout, methods, refund_method_for(doc.payments, methods))
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


class TypedRefundDialog(QDialog):
    """Another till's receipt the server cannot be asked about: the vendor types in what the
    customer's paper says — each product, how many, at what price — and how the money goes
    back. Recorded as typed in, and said so to the organizer."""

    def __init__(self, receipt_no: str, products: list[dict], methods, parent=None):
        super().__init__(parent)
        from ui.won_edit import WonEdit

        self.WonEdit = WonEdit
        self.setWindowTitle(t("typed_refund_title", receipt=receipt_no))
        self.products = products
        self.answer = None
        layout = QVBoxLayout(self)
        note = QLabel(t("typed_refund_note", receipt=receipt_no))
        note.setWordWrap(True)
        layout.addWidget(note)
        self.table = _table([t("cart_name"), t("cart_qty"), t("typed_refund_price")])
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        layout.addWidget(self.table, 1)
        add = QPushButton(t("typed_refund_add"))
        add.setMinimumHeight(40)
        add.clicked.connect(self.add_row)
        layout.addWidget(add)
        _money_back(self, layout, methods, "cash")
        self.rows: list[tuple] = []
        self.add_row()
        self.resize(720, 460)

    def add_row(self) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        product = QComboBox()
        product.setMinimumHeight(32)
        for p in self.products:
            product.addItem(f"{p['name']} · {p['enterprise_name']} · {won(p['price'])}", p["id"])
        qty = QSpinBox()
        qty.setRange(1, 9999)
        qty.setMinimumHeight(32)
        price = self.WonEdit()
        if self.products:
            price.set_value(self.products[0]["price"])

        def chosen(_i, product=product, price=price):
            found = next((p for p in self.products if p["id"] == product.currentData()), None)
            if found is not None:
                price.set_value(found["price"])
            self._update()

        product.currentIndexChanged.connect(chosen)
        qty.valueChanged.connect(self._update)
        price.textChanged.connect(self._update)
        price.problem_changed.connect(lambda _text: self._update())
        self.table.setCellWidget(row, 0, product)
        self.table.setCellWidget(row, 1, qty)
        self.table.setCellWidget(row, 2, price)
        self.rows.append((product, qty, price))
        self._update()

    def lines(self) -> list[sales_svc.TypedLine] | None:
        """The lines typed, or None while one of them is not complete (`self.problem` says
        which and why)."""
        out = []
        self.problem = ""
        for k, (product, qty, price) in enumerate(self.rows, start=1):
            if price.problem() or not price.text().strip():
                self.problem = t("typed_refund_bad_price", line=k,
                                 why=price.problem() or t("typed_refund_no_price"))
                return None
            if product.currentData() is None:
                return None
            out.append(sales_svc.TypedLine(product.currentData(), qty.value(), price.value()))
        return out

    def _update(self) -> None:
        lines = self.lines()
        if lines is None and self.problem:
            self.total.setText(self.problem)
            self.total.setStyleSheet("color: #b00020;")
        else:
            total = sum(ln.qty * ln.unit_price for ln in lines) if lines else 0
            self.total.setText(t("refund_total", amount=won(total)))
            self.total.setStyleSheet("")
        self.ok_button.setEnabled(bool(lines))

    def _accept(self) -> None:
        lines = self.lines()
        if not lines:
            return
        total = sum(ln.qty * ln.unit_price for ln in lines)
        if not prompts.confirm(self, t("typed_refund_confirm", amount=won(total))):
            return
        self.answer = (lines, self.method.currentData(), self.reason.text().strip())
        self.accept()

    def run(self):
        """([TypedLine], method, reason), or None when cancelled."""
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
        self.current = None  # a document of this till, or another till's sale (`OtherSale`)
        self.lookup = None  # the last receipt looked up (`sync.returns.Lookup`)
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
        self.cash_receipts_btn = QPushButton(t("btn_cash_receipts"))
        self.cash_receipts_btn.setMinimumHeight(40)
        self.cash_receipts_btn.clicked.connect(self.show_cash_receipts)
        top.addWidget(self.day)
        top.addWidget(today)
        top.addWidget(self.search, 1)
        top.addWidget(self.cash_receipts_btn)
        layout.addLayout(top)
        split = QSplitter(Qt.Horizontal)
        self.table = _table([t("col_receipt"), t("col_time"), t("col_kind"), t("col_total"),
                             t("col_payments"), t("col_state"), t("col_note")])
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
        self.cash_receipt_btn = QPushButton(t("btn_cash_receipt"))
        for b, slot in ((self.void_btn, self.void), (self.refund_btn, self.refund),
                        (self.reprint_btn, self.reprint), (self.preview_btn, self.preview),
                        (self.cash_receipt_btn, self.cash_receipt)):
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
            others = {r["other_sale_id"]: sales_svc.other_sale(uow, r["other_sale_id"]).receipt_no
                      for r in self.rows if r.get("other_sale_id")}
            states = svc.return_states(uow, sale_ids=[r["id"] for r in self.rows
                                                      if r["kind"] == DocKind.SALE])
        self.rows.reverse()  # newest first
        self.table.clearSelection()
        self.table.setRowCount(len(self.rows))
        for row, r in enumerate(self.rows):
            note = ""
            if r["original_id"]:
                note = t("original", receipt=originals.get(r["original_id"], "…"))
            elif r.get("other_sale_id"):
                note = t("original", receipt=others.get(r["other_sale_id"], "…"))
            state = states.get(r["id"])
            cells = [r["receipt_no"], datetime.fromisoformat(r["created_at"]).strftime("%H:%M:%S"),
                     t(f"kind_{r['kind']}"), won(r["total"]), " + ".join(pays.get(r["id"], [])),
                     t(f"state_{state}") if state else "", note]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if state in ("voided", "refunded"):  # nothing left of it: greyed, struck out
                    item.setForeground(QColor("#8a8a8a"))
                    if col in (0, 3):
                        font = item.font()
                        font.setStrikeOut(True)
                        item.setFont(font)
                elif state and col == 5:
                    item.setForeground(QColor("#b3261e"))
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
        other = isinstance(self.current, sales_svc.OtherSale)
        if other:
            with self.store.unit_of_work(write=False) as uow:
                lines = svc.refundable_lines(uow, sale_id=self.current.id)
            left = not self.current.voided and any(r.remaining for r in lines)
            self.void_btn.setEnabled(left and not self.current.typed
                                     and not any(r.refunded_qty for r in lines))
            self.refund_btn.setEnabled(left)
            self.reprint_btn.setEnabled(False)
            self.preview_btn.setEnabled(False)
            self.cash_receipt_btn.setEnabled(False)
            return
        is_sale = self.current is not None and self.current.kind == DocKind.SALE
        elsewhere = self._elsewhere()
        left = False
        if is_sale:  # a voided or wholly refunded sale has nothing left to give back
            with self.store.unit_of_work(write=False) as uow:
                left = any(r.remaining for r in svc.refundable_lines(
                    uow, sale_id=self.current.id, elsewhere=elsewhere))
        self.void_btn.setEnabled(is_sale and left and not self.current.refunds and not elsewhere)
        self.refund_btn.setEnabled(left)
        self.reprint_btn.setEnabled(self.current is not None)
        self.preview_btn.setEnabled(self.current is not None)
        self.cash_receipt_btn.setEnabled(is_sale and not self.current.refunds and not any(
            r.kind == "issue" and r.state != "cancelled" and not r.voluntary
            for r in self.current.cash_receipts))

    def _elsewhere(self) -> dict[int, int] | None:
        """What the server said other tills gave back of the current (own) sale, if it was
        looked up just now."""
        if self.lookup is not None and self.lookup.own is not None and self.current is not None \
                and self.lookup.own.id == self.current.id:
            return self.lookup.elsewhere
        return None

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
                tax_line(TaxBreakdown.of_parts(doc.parts), note=True), ""]
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
        if doc.cash_receipts:
            out += ["", t("history_cash_receipts")]
            for r in doc.cash_receipts:
                state = {"to_issue": t("cash_receipt_state_to_issue", due=r.due_day),
                         "issued": t("cash_receipt_state_issued", approval=r.approval_no or ""),
                         "cancelled": t("cash_receipt_state_cancelled")}[r.state]
                number = r.masked + (f" ({t('cash_receipt_self')})" if r.voluntary else "")
                if r.kind == "cancel":
                    out.append(t("cash_receipt_line_cancel", issuer=r.enterprise_name,
                                 amount=won(r.amount), number=number, state=state))
                else:
                    purpose = t("pay_purpose_proof") if r.purpose == "proof" \
                        else t("pay_purpose_deduction")
                    out.append(t("cash_receipt_line", issuer=r.enterprise_name,
                                 amount=won(r.amount), number=number, purpose=purpose,
                                 state=state))
        return "\n".join(out)

    # -- actions --------------------------------------------------------------------------------
    def on_scan(self, code: str) -> None:
        self.find(code)

    def find(self, text: str) -> None:
        """A receipt by its number: this till's own, or another till's of the stall (read from
        the server, or typed in from the paper when the server cannot be asked)."""
        text = text.strip()
        if not text:
            return
        lookup = self.sync.look_up(text)
        self.lookup = lookup
        found = ([lookup.own] if lookup.own is not None else []) + list(lookup.others)
        if not found:
            self._not_found(text, lookup)
            return
        if len(found) > 1:  # one number printed by several tills before they enrolled
            pick = prompts.choose(self, t("receipt_pick", receipt=text), [
                self._choice(x) for x in found])
            if pick is None:
                return
            chosen = found[pick]
        else:
            chosen = found[0]
        self.search.clear()
        if isinstance(chosen, sales_svc.OtherSale):
            self.show_other(chosen, lookup)
            return
        self._show_own(chosen)

    def _choice(self, x) -> str:
        when = datetime.fromisoformat(x.created_at).strftime("%Y-%m-%d %H:%M")
        if isinstance(x, sales_svc.OtherSale):
            return t("receipt_choice", till=x.device_code, when=when,
                     total=won(x.totals().total))
        return t("receipt_choice", till=self.store.device["code"], when=when,
                 total=won(x.totals.total))

    def _not_found(self, text: str, lookup) -> None:
        try:
            code = parse_receipt_no(text)[0]
        except ValueError:
            code = None
        if lookup.asked or code is None or code == self.store.device["code"]:
            self.message.setText(t("not_found_receipt", value=_shown(text)))
            return
        # another till's number, and the server could not be asked (offline, not enrolled)
        if prompts.confirm(self, t("other_till_unchecked", receipt=lookup.number.upper(),
                                   till=code)):
            self.type_refund(text)

    def type_refund(self, receipt_no: str) -> None:
        with self.store.unit_of_work(write=False) as uow:
            products = svc.list_products(uow)
            methods = svc.payment_methods(uow)
        answer = self.typed_refund_dialog(receipt_no, products, methods)
        if not answer:
            return
        lines, method, reason = answer

        def action():
            with self.store.unit_of_work() as uow:
                typed = sales_svc.type_other_sale(uow, receipt_no=receipt_no, lines=lines)
                uow.commit()
            return self.sync.give_back(kind="refund", sale_id=typed.id,
                                     quantities={ln.line_no: ln.qty for ln in typed.lines},
                                     method=method, reason=reason)

        self._return(action, "done_refund")

    def typed_refund_dialog(self, receipt_no, products, methods):
        return TypedRefundDialog(receipt_no, products, methods, self).run()

    def show_other(self, other: sales_svc.OtherSale, lookup) -> None:
        """Another till's sale in the detail pane, to be given back."""
        self.table.clearSelection()
        self.current = other
        with self.store.unit_of_work(write=False) as uow:
            methods = svc.payment_methods(uow)
            refundable = svc.refundable_lines(uow, sale_id=other.id)
        out = [t("other_till_receipt", receipt=other.receipt_no, till=other.device_code),
               datetime.fromisoformat(other.created_at).strftime("%Y-%m-%d %H:%M:%S"), ""]
        for r in refundable:
            ln = r.line
            out.append(f"{ln.line_no}. {ln.name}  ({ln.enterprise_name})")
            out.append(f"     {won(ln.unit_price)} × {ln.qty}  = {won(ln.amount)}"
                       + (f"  · {t('refund_left')} {r.remaining}" if r.refunded_qty else ""))
        out += ["", f"{t('total')}  {won(other.totals().total)}", ""]
        for p in other.payments:
            m = methods.get(p.method)
            out.append(f"{m.label(language()) if m else p.method}  {won(p.amount)}")
        if other.returns:
            out += ["", t("refunded_by", receipts=", ".join(other.returns))]
        if other.voided:
            out += ["", t("other_till_voided")]
        when = datetime.fromisoformat(other.fetched_at).strftime("%Y-%m-%d %H:%M")
        mine = [r for r in refundable if r.refunded_qty]
        if other.typed:
            out += ["", t("other_till_typed", when=when)]
        elif lookup is not None and not lookup.asked:
            out += ["", t("other_till_as_of", when=when)]
        if mine and not other.returns:
            out += ["", t("other_till_given_back")]
        self.detail.setPlainText("\n".join(out))
        self.message.setText("")
        self._buttons()

    def _show_own(self, doc) -> None:
        d = date.fromisoformat(doc.business_day)
        self.day.blockSignals(True)
        self.day.setDate(QDate(d.year, d.month, d.day))
        self.day.blockSignals(False)
        self.message.setText("")
        self.reload(select_id=doc.id)

    def _total(self, doc) -> int:
        return doc.totals().total if isinstance(doc, sales_svc.OtherSale) else doc.totals.total

    def void(self) -> None:
        doc = self.current
        if doc is None or not prompts.confirm(self, t("confirm_void", receipt=doc.receipt_no,
                                                      total=won(self._total(doc)))):
            return
        self._return(lambda: self.sync.give_back(kind="void", sale_id=doc.id,
                                                 lookup=self.lookup), "done_void")

    def refund(self) -> None:
        doc = self.current
        if doc is None:
            return
        elsewhere = None if isinstance(doc, sales_svc.OtherSale) else self._elsewhere()
        with self.store.unit_of_work(write=False) as uow:
            refundable = svc.refundable_lines(uow, sale_id=doc.id, elsewhere=elsewhere)
            methods = svc.payment_methods(uow)
        answer = self.refund_dialog(doc, refundable, methods)
        if not answer:
            return
        quantities, method, reason = answer
        amount = price_refund(refund_lines(refundable, quantities)).totals.total
        if not self._confirm_refund(doc.receipt_no, amount, method, methods):
            return
        self._return(lambda: self.sync.give_back(
            kind="refund", sale_id=doc.id, quantities=quantities, method=method, reason=reason,
            lookup=self.lookup), "done_refund")

    def _confirm_refund(self, receipt_no: str, amount: int, method: str, methods) -> bool:
        """The last word before money goes back: how much, and how."""
        m = methods.get(method)
        return prompts.confirm(self, t("confirm_refund", receipt=receipt_no, amount=won(-amount),
                                       method=m.label(language()) if m else method))

    def refund_dialog(self, doc, refundable, methods):
        return RefundDialog(doc, refundable, methods, self).run()

    def _return(self, action, done_key: str) -> None:
        """Record a void or refund (`action()`: held on the server first when enrolled,
        `sync.returns`) and show it; a refusal is said and nothing is recorded."""
        from ui.staff_pin import Declined, with_approval

        try:
            back = with_approval(self, self.store, action)
        except Declined:
            return
        except (DomainError, StoreError) as e:
            prompts.error(self, explain(e))
            if getattr(e, "code", None) == "return_refused_by_server" and self.current:
                self.find(self.current.receipt_no)  # what is left now, from the server
            return
        self.lookup = None  # the sync worker wakes by itself and pushes it: the hold ends
        self.message.setText(t(done_key, receipt=back.receipt_no, total=won(back.totals.total)))
        self.reload(select_id=back.id)
        self.changed.emit()

    def cash_receipt(self) -> None:
        """The customer came back with a number: a cash receipt request for the sale, within
        the deadline (`cash_receipts.request_later`)."""
        from pos.services import cash_receipts

        doc = self.current
        if doc is None or isinstance(doc, sales_svc.OtherSale):
            return
        ask = self.cash_receipt_dialog(doc.receipt_no)
        if ask is None:
            return
        try:
            with self.store.unit_of_work() as uow:
                made = cash_receipts.request_later(uow, receipt_no=doc.receipt_no, ask=ask)
                uow.commit()
        except (DomainError, StoreError) as e:
            prompts.error(self, explain(e))
            return
        self.message.setText(t("done_cash_receipt", receipt=doc.receipt_no,
                               number=made[0].masked, amount=won(sum(r.amount for r in made)),
                               due=made[0].due_day))
        self.reload(select_id=doc.id)
        self.changed.emit()

    def show_cash_receipts(self):
        """The queue of cash receipts to issue (`ui.cash_receipt.CashReceiptsDialog`)."""
        from ui.cash_receipt import CashReceiptsDialog

        dialog = CashReceiptsDialog(self, self.store)
        dialog.exec()
        dialog.deleteLater()
        if self.current is not None:
            self.reload(select_id=self.current.id)
        return dialog

    def cash_receipt_dialog(self, receipt_no: str):
        from ui.cash_receipt import CashReceiptDialog

        return CashReceiptDialog(receipt_no, self).run()

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

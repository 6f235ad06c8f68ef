"""The Sell screen: find products, build the cart, take the payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from decimal import Decimal, InvalidOperation

from pos import services as svc
from pos.cart import Cart, ParkedCarts
from pos.domain import Discount, DomainError, TaxBreakdown
from pos.money import MAX_QTY, MAX_STOCK
from pos.search import ProductIndex
from pos.store import StoreError
from ui import prompts
from ui.pay_dialog import PayDialog
from ui.product_grid import PALETTE, PRODUCT_ROLE, ProductGrid, ProductListModel
from ui.qt import (QAbstractItemView, QComboBox, QFont, QHBoxLayout, QHeaderView, QLabel,
                   QFrame, QLineEdit, QPushButton, QSizePolicy, QSplitter, QTableWidget,
                   QTableWidgetItem, Qt, QVBoxLayout, QWidget, Signal)
from ui.texts import explain, t, tax_line, won

if TYPE_CHECKING:
    from ui.context import TillContext


SEARCH_LIMIT = 120  # tiles shown at once: three screens; typing narrows the rest


class ChangePanel(QFrame):
    """After a payment: the change in large letters, the receipt under it; a tap closes it."""

    clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("changePanel")
        self.setStyleSheet("#changePanel { background: #1b5e20; border-radius: 8px; } "
                           "QLabel { color: white; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        self.big = QLabel()
        self.small = QLabel()
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 2.4)
        big.setBold(True)
        self.big.setFont(big)
        for label in (self.big, self.small):
            label.setAlignment(Qt.AlignCenter)
            layout.addWidget(label)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.clicked.emit()


class SellScreen(QWidget):
    sale_recorded = Signal(object)  # the Document
    shift_needed = Signal()

    def __init__(self, till: "TillContext", parent=None):
        super().__init__(parent)
        self.till = till
        self.store = till.store
        self.printer = till.printer
        self.sync = till.sync
        self.cart = Cart()
        self.parked = ParkedCarts()
        self.index = ProductIndex([])
        self.colors: dict[str, str] = {}
        self.products: list[dict] = []
        self._build()
        self.reload_catalog()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(t("search_placeholder"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumHeight(40)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._search_enter)
        self.category = QComboBox()
        self.enterprise = QComboBox()
        for combo in (self.category, self.enterprise):
            combo.setMinimumHeight(40)
            combo.currentIndexChanged.connect(self._filter)
            combo.activated.connect(lambda _i: self.ready())  # the next scan lands in search
        top.addWidget(self.search, 3)
        top.addWidget(self.category, 1)
        top.addWidget(self.enterprise, 1)
        lv.addLayout(top)
        # what just happened, right under the search box where the vendor looks: an error in
        # red until the next action clears it (`show_message`)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(30)
        self.message.setVisible(False)
        feedback = QHBoxLayout()
        feedback.addWidget(self.message, 1)
        # an unknown barcode can become a product right here (and goes into the cart)
        self.add_unknown_btn = QPushButton(t("btn_add_unknown"))
        self.add_unknown_btn.setMinimumHeight(40)
        self.add_unknown_btn.setFocusPolicy(Qt.NoFocus)
        self.add_unknown_btn.clicked.connect(self.add_unknown)
        self.add_unknown_btn.setVisible(False)
        self.unknown_code: str | None = None
        feedback.addWidget(self.add_unknown_btn)
        lv.addLayout(feedback)
        self.model = ProductListModel(self.colors, self)
        self.grid = ProductGrid(self.model)
        self.grid.clicked.connect(lambda idx: self.add_product(idx.data(PRODUCT_ROLE)))
        self.grid.menu_requested.connect(self.show_tile_menu)
        lv.addWidget(self.grid, 1)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels([t("cart_name"), t("cart_qty"), t("cart_price"),
                                              t("cart_discount"), t("cart_amount")])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for col in range(1, 5):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.setFocusPolicy(Qt.NoFocus)  # a tap on a line never takes Enter from search
        rv.addWidget(self.table, 1)

        def button(key, slot, **kw):
            b = QPushButton(t(key, **kw))
            b.setMinimumHeight(44)
            b.setFocusPolicy(Qt.NoFocus)
            b.clicked.connect(slot)
            return b

        row1 = QHBoxLayout()
        self.minus_btn = button("btn_minus", lambda: self.change_selected_qty(-1))
        self.plus_btn = button("btn_plus", lambda: self.change_selected_qty(1))
        self.qty_btn = button("btn_set_qty", self.ask_selected_qty)
        self.line_disc_btn = button("btn_line_discount", self.ask_line_discount)
        self.remove_btn = button("btn_remove", self.remove_selected)
        for b in (self.minus_btn, self.plus_btn, self.qty_btn, self.line_disc_btn, self.remove_btn):
            row1.addWidget(b)
        rv.addLayout(row1)
        row2 = QHBoxLayout()
        self.disc_btn = button("btn_receipt_discount", self.ask_receipt_discount)
        self.open_price_btn = button("btn_open_price", self.ask_open_price)
        self.park_btn = button("btn_park", self.park_cart)
        self.resume_btn = button("btn_resume", self.resume_cart, count=0)
        self.clear_btn = button("btn_clear", self.clear_cart)
        for b in (self.open_price_btn, self.disc_btn, self.park_btn, self.resume_btn,
                  self.clear_btn):
            row2.addWidget(b)
        rv.addLayout(row2)

        # after a payment: the change, large, until the next tap or scan
        self.change_panel = ChangePanel(self)
        self.change_panel.clicked.connect(self.hide_change)
        self.change_panel.setVisible(False)
        rv.addWidget(self.change_panel)
        self.total_label = QLabel()
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * 2.0)
        f.setBold(True)
        self.total_label.setFont(f)
        self.total_label.setAlignment(Qt.AlignRight)
        self.vat_label = QLabel()
        self.vat_label.setAlignment(Qt.AlignRight)
        self.vat_label.setWordWrap(True)
        self.vat_note = QLabel()  # why a simplified taxpayer's part has no VAT, when there is one
        self.vat_note.setAlignment(Qt.AlignRight)
        self.vat_note.setWordWrap(True)
        self.vat_note.setStyleSheet("color: #555555;")
        rv.addWidget(self.total_label)
        rv.addWidget(self.vat_label)
        rv.addWidget(self.vat_note)
        self.pay_btn = QPushButton()
        self.pay_btn.setMinimumHeight(72)
        pf = QFont(self.font())
        pf.setPointSizeF(pf.pointSizeF() * 1.6)
        pf.setBold(True)
        self.pay_btn.setFont(pf)
        self.pay_btn.setStyleSheet("QPushButton { background: #2f7d32; color: white; "
                                   "border-radius: 8px; } QPushButton:disabled { "
                                   "background: #9bb59c; }")
        self.pay_btn.setFocusPolicy(Qt.NoFocus)
        self.pay_btn.clicked.connect(self.pay)
        rv.addWidget(self.pay_btn)

        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        right.setMinimumWidth(420)
        right.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(split)
        self._refresh_cart()

    # -- catalog and search ---------------------------------------------------------------------
    def reload_catalog(self) -> None:
        with self.store.unit_of_work(write=False) as uow:
            self.products = svc.list_products(uow, active_only=True)
            enterprises = svc.list_enterprises(uow, active_only=True)
            categories = svc.list_categories(uow)
        self.products.sort(key=lambda p: (p["category_name"] or "", p["name"]))
        self.index = ProductIndex(self.products)
        self.colors.clear()
        for i, e in enumerate(sorted(enterprises, key=lambda e: e["name"])):
            self.colors[e["id"]] = PALETTE[i % len(PALETTE)]
        for combo, first, rows in ((self.category, t("all_categories"), categories),
                                   (self.enterprise, t("all_enterprises"), enterprises)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(first, None)
            for r in rows:
                combo.addItem(r["name"], r["id"])
            combo.blockSignals(False)
        self.open_price_btn.setEnabled(self.enterprise.count() > 1)
        self._filter()

    def _filter(self) -> None:
        category = self.category.currentData()
        enterprise = self.enterprise.currentData()
        found = self.index.search(self.search.text(), None if (category or enterprise)
                                  else SEARCH_LIMIT)
        if category:
            found = [p for p in found if p["category_id"] == category]
        if enterprise:
            found = [p for p in found if p["enterprise_id"] == enterprise]
        self.model.set_products(found[:SEARCH_LIMIT])
        if self.search.text() and not found:
            self.show_message(t("no_results"), error=True)
        elif self.search.text():
            self.clear_message()  # typing on: an old message is no news any more

    def shown_products(self) -> list[dict]:
        return [self.model.product(i) for i in range(self.model.rowCount())]

    def _search_enter(self) -> None:
        if self.search.text().strip():
            shown = self.shown_products()
            if shown:
                self.add_product(shown[0])
                self.search.clear()
        elif not self.cart.is_empty:
            self.pay()

    def on_scan(self, code: str) -> None:
        product = self.index.by_code(code)
        if product is None:
            self.hide_change()
            self.show_message(t("unknown_barcode", code=code), error=True)
            self.unknown_code = code
            self.add_unknown_btn.setVisible(True)
            self.scan_error_sound()
            return
        self.add_product(product)

    def add_unknown(self) -> None:
        """The last unknown barcode as a new product (the catalog's own form, the code filled
        in); once saved it goes into the cart."""
        code = self.unknown_code
        if code is None:
            return
        saved = self.product_dialog(code).run()
        self.ready()
        if not saved:
            return
        self.reload_catalog()
        product = next((p for p in self.products if p["id"] == saved), None)
        if product is not None:
            self.add_product(product)
        else:  # saved as not on sale: said, nothing added
            self.show_message(t("added_not_on_sale"), error=True)

    def tile_actions(self, product: dict) -> list[tuple[str, object]]:
        """What a tile's menu offers (right click, or a long press on a touch screen): mark it
        sold out (its stock counted 0: every till of the stall sees it) or, when it is, count
        what came back on the shelf."""
        stock = product.get("stock")
        if stock is not None and stock <= 0:
            return [(t("tile_back_in_stock"), lambda: self._count_tile(product, None))]
        return [(t("tile_mark_sold_out"), lambda: self._count_tile(product, 0))]

    def show_tile_menu(self, product: dict, pos) -> None:
        from ui.qt import QMenu

        menu = QMenu(self)
        for label, action in self.tile_actions(product):
            menu.addAction(label, action)
        menu.exec(pos)
        self.ready()

    def _count_tile(self, product: dict, qty: int | None) -> None:
        if qty is None:
            qty = prompts.ask_int(self, t("ask_count_for", name=product["name"]), 0, 0, MAX_STOCK)
            self.ready()
            if qty is None:
                return
        from pos.services.stock import record_stock
        from ui.staff_pin import NOT_DONE, committed

        if committed(self, self.store, lambda uow: record_stock(
                uow, product_id=product["id"], kind="counted", qty=qty,
                reason=t("tile_sold_out") if qty == 0 else ""),
                say=lambda text: self.show_message(text, error=True)) is NOT_DONE:
            return
        self.reload_catalog()
        self.show_message(t("tile_marked_sold_out", name=product["name"]) if qty == 0 else
                          t("tile_counted", name=product["name"], count=qty))

    def product_dialog(self, code: str):
        from ui.catalog_screen import ProductDialog

        return ProductDialog(self.store, None, self, barcode=code)

    def ask_open_price(self) -> None:
        """An amount sold for an enterprise without a product (the open-price key)."""
        with self.store.unit_of_work(write=False) as uow:
            enterprises = svc.list_enterprises(uow, active_only=True)
        answer = self.open_price_dialog(enterprises).run()
        self.ready()
        if answer is None:
            return
        enterprise_id, tax_class, amount = answer
        try:
            with self.store.unit_of_work() as uow:
                product = svc.open_price_product(uow, enterprise_id=enterprise_id,
                                                 tax_class=tax_class)
                uow.commit()
        except (DomainError, StoreError) as e:
            self.show_message(explain(e), error=True)
            return
        self.add_product({**product, "price": amount})

    def open_price_dialog(self, enterprises):
        from ui.open_price import OpenPriceDialog

        return OpenPriceDialog(enterprises, self, chosen=self.enterprise.currentData())

    def scan_error_sound(self) -> None:
        with self.store.unit_of_work(write=False) as uow:
            wanted = svc.till_settings(uow).scan_error_sound
        if wanted:
            from ui import sound

            sound.error_beep()

    # -- cart -----------------------------------------------------------------------------------
    def add_product(self, product: dict, qty: int = 1) -> None:
        self.hide_change()
        row = self.cart.add(product, qty)
        self._refresh_cart(select=row)
        stock = product.get("stock")
        in_cart = sum(line.qty for line in self.cart.lines if line.product_id == product["id"])
        if stock is not None and in_cart > stock:  # sold out as this till knows: sell, but say so
            self.show_message(t("added_past_stock", name=product["name"], stock=stock),
                              error=True)
            return
        self.show_message(t("added", name=product["name"]))

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return rows[0].row()
        return len(self.cart.lines) - 1 if self.cart.lines else None

    def move_selection(self, delta: int) -> None:
        row = self.selected_row()
        if row is not None:
            self.table.selectRow(max(0, min(len(self.cart.lines) - 1, row + delta)))

    def change_selected_qty(self, delta: int) -> None:
        row = self.selected_row()
        if row is None:
            return
        if self.cart.lines[row].qty + delta > MAX_QTY:  # said, not silently applied
            self.show_message(t("qty_at_most", max=MAX_QTY), error=True)
            return
        self.cart.change_qty(row, delta)
        self._refresh_cart(select=min(row, len(self.cart.lines) - 1))

    def ask_selected_qty(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        line = self.cart.lines[row]
        qty = prompts.ask_int(self, t("ask_qty_for", name=line.name), line.qty, 0, MAX_QTY)
        self.ready()
        if qty is not None:
            self.cart.set_qty(row, qty)
            self._refresh_cart(select=min(row, len(self.cart.lines) - 1))

    def ask_line_discount(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        line = self.cart.lines[row]
        won_off = prompts.ask_int(self, t("ask_line_discount", name=line.name),
                                  line.line_discount, 0, line.gross, won_amount=True)
        self.ready()
        if won_off is not None:
            self.cart.set_line_discount(row, won_off)
            self._refresh_cart(select=row)

    def ask_receipt_discount(self) -> None:
        if self.cart.is_empty:
            return
        lines = sum(ln.gross - ln.line_discount for ln in self.cart.lines)  # before this discount
        text = prompts.ask_discount(self, t("ask_receipt_discount"), lines)
        self.ready()
        if text is None:
            return
        text = text.strip().replace(",", "").removesuffix("원")
        try:
            if not text or text == "0":
                discount = None
            elif text.endswith("%"):
                discount = Discount.percent(str(Decimal(text[:-1])))
            else:
                discount = Discount.amount(int(text))
        except (InvalidOperation, ValueError):
            self.show_message(t("bad_number", value=text), error=True)
            return
        previous = self.cart.discount
        self.cart.discount = discount
        try:
            self.cart.priced()
        except DomainError as e:
            self.cart.discount = previous
            self.show_message(explain(e), error=True)
            return
        self._refresh_cart()

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.cart.remove(row)
            self._refresh_cart(select=min(row, len(self.cart.lines) - 1))

    def clear_cart(self) -> None:
        self.cart.clear()
        self.hide_change()
        self.clear_message()
        self._refresh_cart()

    def park_cart(self) -> None:
        if self.cart.is_empty:
            return
        priced = self.cart.priced()
        label = t("park_label", time=self.store.clock.now().strftime("%H:%M"),
                  count=sum(ln.qty for ln in self.cart.lines), total=won(priced.totals.total))
        self.cart = self.parked.park(self.cart, label)
        self._refresh_cart()

    def resume_cart(self) -> None:
        if not len(self.parked):
            return
        index = 0
        if len(self.parked) > 1:
            index = prompts.choose(self, t("choose_parked"), self.parked.labels())
            if index is None:
                return
        chosen = self.parked.resume(index)
        if not self.cart.is_empty:
            self.show_message(t("cart_busy_park_first"))
            self.park_cart()
        self.cart = chosen
        self._refresh_cart()

    def _refresh_cart(self, select: int | None = None) -> None:
        self.clear_message()  # the cart changed: that was the next action
        self.table.setRowCount(len(self.cart.lines))
        priced = None
        try:
            priced = self.cart.priced()
        except DomainError as e:  # pragma: no cover - the cart keeps its own rules
            self.show_message(explain(e), error=True)
        for row, line in enumerate(self.cart.lines):
            amount = priced.lines[row].amount if priced else line.gross - line.line_discount
            cells = [line.name, str(line.qty), won(line.unit_price),
                     won(-line.line_discount) if line.line_discount else "", won(amount)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, col, item)
        if select is not None and select >= 0 and self.cart.lines:
            self.table.selectRow(select)
        totals = priced.totals if priced else None
        total = totals.total if totals else 0
        self.total_label.setText(f"{t('total')}  {won(total)}")
        breakdown = TaxBreakdown.of_parts(priced.parts if priced else [])
        vat = tax_line(breakdown)
        note = tax_line(breakdown, note=True).partition("\n")[2]
        self.vat_note.setText(note)
        self.vat_note.setVisible(bool(note))
        discount = (totals.line_discount + totals.receipt_discount) if totals else 0
        if discount:
            vat = t("discount_line", amount=won(-discount)) + " · " + vat
        self.vat_label.setText(vat)
        self.pay_btn.setText(t("btn_pay", total=won(total)))
        self.pay_btn.setEnabled(not self.cart.is_empty)
        self.resume_btn.setText(t("btn_resume", count=len(self.parked)))
        self.resume_btn.setEnabled(bool(len(self.parked)))
        for b in (self.minus_btn, self.plus_btn, self.qty_btn, self.line_disc_btn,
                  self.remove_btn, self.disc_btn, self.park_btn, self.clear_btn):
            b.setEnabled(not self.cart.is_empty)
        self.open_price_btn.setEnabled(self.enterprise.count() > 1)  # an enterprise to sell for

    def ready(self) -> None:
        """Back to the till after a dialog: the window active, the search box focused, so the
        next scan or shortcut lands here."""
        window = self.window()
        window.activateWindow()
        self.search.setFocus()

    def show_message(self, text: str, *, error: bool = False) -> None:
        """Said under the search box: an error white on red, anything else plain; the next
        message (every action says what it did) or `clear_message` replaces it."""
        self.add_unknown_btn.setVisible(False)
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.setStyleSheet(
            "QLabel { background: #b3261e; color: white; font-weight: bold; padding: 4px 8px; "
            "border-radius: 4px; }" if error else
            "QLabel { color: #1f3d22; padding: 4px 8px; }")
        self.message.setVisible(bool(text))

    def clear_message(self) -> None:
        self.show_message("")

    def show_change(self, doc) -> None:
        """The change, large, in place of nothing: it stays until the next tap or scan."""
        if doc.change:
            text = t("change_panel", change=won(doc.change))
        else:
            text = t("change_panel_none")
        self.change_panel.big.setText(text)
        self.change_panel.small.setText(t("change_panel_receipt", receipt=doc.receipt_no))
        self.change_panel.setVisible(True)

    def hide_change(self) -> None:
        self.change_panel.setVisible(False)

    # -- paying ---------------------------------------------------------------------------------
    def pay(self) -> None:
        if self.cart.is_empty:
            return
        self.clear_message()
        try:  # a cart past the limits (a quantity, an amount) is said, never a crash
            priced = self.cart.priced()
        except DomainError as e:
            self.show_message(explain(e), error=True)
            return
        if priced.totals.total <= 0:  # nothing to pay: no payment can record it
            self.show_message(t("pay_nothing_due"), error=True)
            return
        from pos.services import cash_receipts

        with self.store.unit_of_work(write=False) as uow:
            methods = svc.payment_methods(uow)
            mode = svc.till_settings(uow).receipt_mode
            shift = svc.current_shift(uow)
            rules = cash_receipts.rules(uow)
            from pos.services.sales import terminals_of

            own = terminals_of(uow)
        if shift is None:  # every sale belongs to a shift: open one here, in one step
            from ui.shift_prompt import COUNT, OPENED

            outcome = self.open_shift_dialog().run()
            if outcome == COUNT:
                self.shift_needed.emit()  # the cart waits while the drawer is counted
            if outcome != OPENED:
                self.ready()
                return
        def must_issue(payments) -> bool:
            with self.store.unit_of_work(write=False) as uow:
                return cash_receipts.must_ask(uow, priced.lines, payments)

        parts: dict[str, int] = {}
        for ln in priced.lines:
            parts[ln.enterprise_id] = parts.get(ln.enterprise_id, 0) + ln.amount
        terminals = [(eid, name, parts[eid]) for eid, name in own.items()
                     if parts.get(eid, 0) > 0]
        result = PayDialog(priced.totals.total, [m for m in methods.values() if m.active],
                           receipt=mode == "always", parent=self,
                           cash_like=rules.cash_like_kinds, must_issue=must_issue,
                           mandatory_min=rules.mandatory_min, terminals=terminals).run()
        self.ready()
        if result is None:
            return
        self.record(result.tenders, receipt_requested=result.receipt,
                    cash_receipt=result.cash_receipt)

    def open_shift_dialog(self):
        from ui.shift_prompt import OpenShiftDialog

        return OpenShiftDialog(self.store, self)

    def _clock_note(self, doc) -> None:
        """The sale went to the right business day, but the clock looks wrong: say so in the
        status line every time, and in a dialog the first time this session."""
        from pos.errors import CodedError

        code, params = doc.clock_note
        text = explain(CodedError(code, **params))
        self.show_message(text, error=True)
        if not getattr(self, "_clock_told", False):
            self._clock_told = True
            prompts.error(self, text)

    def record(self, tenders, *, receipt_requested: bool = False, cash_receipt=None):
        """Commit the cart as a paid sale; on any problem say why and keep the cart.
        `cash_receipt`: the customer's cash receipt request (`cash_receipts.Ask`)."""
        from ui.staff_pin import Declined, with_approval

        def run():
            with self.store.unit_of_work() as uow:
                made = svc.record_sale(uow, items=self.cart.sale_items(), tenders=tenders,
                                       discount=self.cart.discount,
                                       receipt_requested=receipt_requested,
                                       cash_receipt=cash_receipt)
                uow.commit()
            return made

        try:
            doc = with_approval(self, self.store, run)
        except Declined:
            self.show_message(t("approval_declined"), error=True)
            return None
        except (DomainError, StoreError) as e:
            self.show_message(explain(e), error=True)
            prompts.error(self, explain(e))
            return None
        self.cart = Cart()
        self._refresh_cart()
        self.search.clear()
        self.show_message(t("last_sale", receipt=doc.receipt_no, change=won(doc.change))
                          if doc.change else t("last_sale_no_change", receipt=doc.receipt_no))
        self.show_change(doc)
        if doc.cash_receipts:  # what was asked for, masked: the vendor can say it back
            first = doc.cash_receipts[0]
            key = "last_sale_self_issue" if first.voluntary else "last_sale_cash_receipt"
            self.show_message(t(key, receipt=doc.receipt_no, number=first.masked,
                                amount=won(sum(r.amount for r in doc.cash_receipts))))
        if doc.clock_note:
            self._clock_note(doc)
        self.sale_recorded.emit(doc)
        return doc

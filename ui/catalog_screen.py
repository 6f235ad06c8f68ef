"""Catalog: products and enterprises of the stall, with validation that explains itself, and
import/export through the same code as `jangteo catalog`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from decimal import Decimal, InvalidOperation
from pathlib import Path

from pos import services as svc
from pos.catalog_io import ImportFileError, export_catalog, import_catalog
from pos.domain import DomainError
from pos.money import AmountError, parse_won
from pos.store import StoreError
from ui import prompts
from ui.qt import (QAbstractItemView, QAbstractTableModel, QCheckBox, QComboBox, QDialog,
                   QDialogButtonBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
                   QLineEdit, QModelIndex, QPushButton, Qt, QTableView, QTabWidget, QVBoxLayout,
                   QWidget, Signal)
from ui.files import open_file, save_file
from ui.texts import explain, t, won


if TYPE_CHECKING:
    from ui.context import TillContext


class RowsModel(QAbstractTableModel):
    """A read-only table of prepared text rows; each row keeps the record it shows."""

    def __init__(self, headers: list[str], parent=None):
        super().__init__(parent)
        self.headers = headers
        self.rows: list[tuple[dict, list[str]]] = []

    def set_rows(self, rows: list[tuple[dict, list[str]]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return len(self.headers)

    def data(self, index, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and index.isValid():
            return self.rows[index.row()][1][index.column()]
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.headers[section]
        return None


def _view(model: RowsModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(30)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class FormDialog(QDialog):
    """A form that saves through the services: their refusal is shown in the dialog, which
    stays open; `run()` answers the saved record's id, or None."""

    def __init__(self, store, title: str, parent=None):
        super().__init__(parent)
        self.store = store
        self.saved_id: str | None = None
        self.setWindowTitle(title)
        self.form = QFormLayout(self)

    def finish(self, rows, width: int, height: int) -> None:
        """The labelled fields, then the error line and Save / Cancel."""
        for key, widget in rows:
            self.form.addRow(t(key), widget)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.error.setWordWrap(True)
        self.form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Cancel).setText(t("btn_close"))  # never "취소": a void
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.form.addRow(buttons)
        self.resize(width, height)

    def save(self) -> None:
        raise NotImplementedError

    def commit(self, write) -> None:
        """`write(uow)` (returning the saved id) in one unit of work; close on success."""
        from pos import audit
        from pos.services import staff
        from ui.staff_pin import NOT_DONE, committed

        def save(uow):
            staff.need(uow, "catalog", subject=self.name.text().strip()[:100])
            saved = write(uow)
            audit.record(uow, "catalog_edit", self.name.text().strip()[:100],
                         {"what": self.kind, "new": self.is_new})
            return saved

        saved = committed(self, self.store, save, say=self.error.setText)
        if saved is NOT_DONE:
            return
        self.saved_id = saved
        self.accept()

    def run(self) -> str | None:
        self.exec()
        return self.saved_id


class ProductDialog(FormDialog):
    """Add or edit a product."""

    def __init__(self, store, product: dict | None, parent=None, *, barcode: str = ""):
        super().__init__(store, t("product_dialog"), parent)
        self.product = product
        self.kind, self.is_new = "product", product is None
        with store.unit_of_work(write=False) as uow:
            enterprises = svc.list_enterprises(uow)
            categories = svc.list_categories(uow)
        self.name = QLineEdit(product["name"] if product else "")
        self.price = QLineEdit(str(product["price"]) if product else "")
        self.enterprise = QComboBox()
        for e in enterprises:
            self.enterprise.addItem(e["name"], e["id"])
        if product:
            self.enterprise.setCurrentIndex(self.enterprise.findData(product["enterprise_id"]))
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.addItem("")
        for c in categories:
            self.category.addItem(c["name"])
        if product and product.get("category_name"):
            self.category.setCurrentText(product["category_name"])
        self.tax = QComboBox()
        self.tax.addItem(t("tax_taxable"), "taxable")
        self.tax.addItem(t("tax_exempt"), "exempt")
        if product:
            self.tax.setCurrentIndex(self.tax.findData(product["tax_class"]))
        self.sku = QLineEdit(product.get("sku") or "" if product else "")
        self.barcodes = QLineEdit("|".join(product["barcodes"]) if product else barcode)
        self.barcodes.setPlaceholderText(t("barcodes_hint"))
        self.stock = QLineEdit("" if not product or product["stock"] is None else str(product["stock"]))
        self.stock.setPlaceholderText(t("stock_hint"))
        self.active = QCheckBox()
        self.active.setChecked(product["active"] if product else True)
        self.finish((("col_name", self.name), ("col_price", self.price),
                     ("col_enterprise", self.enterprise), ("col_category", self.category),
                     ("col_tax", self.tax), ("col_sku", self.sku),
                     ("col_barcodes", self.barcodes), ("col_stock", self.stock),
                     ("col_active", self.active)), 480, 420)

    def save(self) -> None:
        try:
            price = parse_won(self.price.text())
        except AmountError as e:
            self.error.setText(explain(DomainError("price_invalid", value=e.text)))
            return
        stock_text = self.stock.text().strip()
        try:
            stock = int(stock_text) if stock_text else None
        except ValueError:
            self.error.setText(explain(DomainError("stock_invalid", value=stock_text)))
            return
        fields = dict(name=self.name.text(), price=price, enterprise_id=self.enterprise.currentData(),
                      tax_class=self.tax.currentData(), sku=self.sku.text().strip() or None,
                      stock=stock, active=self.active.isChecked())
        barcodes = [b.strip() for b in self.barcodes.text().split("|") if b.strip()]
        category = self.category.currentText().strip()

        def write(uow) -> str:
            fields["category_id"] = svc.add_category(uow, name=category) if category else None
            if fields["enterprise_id"] is None:
                raise DomainError("enterprise_unknown", value="")
            if self.product:
                svc.update_product(uow, product_id=self.product["id"], barcodes=barcodes,
                                   **fields)
                return self.product["id"]
            return svc.add_product(uow, barcodes=barcodes, **fields)

        self.commit(write)


class EnterpriseDialog(FormDialog):
    """Add or edit an enterprise of the stall."""

    def __init__(self, store, enterprise: dict | None, parent=None):
        super().__init__(store, t("enterprise_dialog"), parent)
        self.enterprise = enterprise
        self.kind, self.is_new = "enterprise", enterprise is None
        e = enterprise or {}
        self.name = QLineEdit(e.get("name", ""))
        self.bizno = QLineEdit(e.get("bizno") or "")
        self.bizno.setPlaceholderText("123-45-67890")
        self.representative = QLineEdit(e.get("representative", ""))
        self.address = QLineEdit(e.get("address", ""))
        self.phone = QLineEdit(e.get("phone", ""))
        self.tax_status = QComboBox()
        for status in ("general", "simplified", "exempt"):
            self.tax_status.addItem(t(f"status_{status}"), status)
        self.tax_status.setCurrentIndex(self.tax_status.findData(e.get("tax_status", "general")))
        self.commission = QLineEdit(f"{e.get('commission_bp', 0) / 100:g}")
        # a trade that must issue cash receipts (의무발행업종), and whose card terminal it uses
        from pos.services import cash_receipts

        with store.unit_of_work(write=False) as uow:
            threshold = cash_receipts.rules(uow).mandatory_min
        self.mandatory = QCheckBox(t("enterprise_mandatory_hint", amount=won(threshold)))
        self.mandatory.setChecked(bool(e.get("cash_receipt_mandatory", False)))
        self.terminal = QComboBox()
        for where in ("stall", "own"):
            self.terminal.addItem(t(f"card_terminal_{where}"), where)
        self.terminal.setCurrentIndex(self.terminal.findData(e.get("card_terminal", "stall")))
        self.active = QCheckBox()
        self.active.setChecked(e.get("active", True))
        self.finish((("col_name", self.name), ("col_bizno", self.bizno),
                     ("col_representative", self.representative),
                     ("col_address", self.address), ("col_phone", self.phone),
                     ("col_tax_status", self.tax_status), ("col_commission", self.commission),
                     ("col_cash_receipt_mandatory", self.mandatory),
                     ("col_card_terminal", self.terminal),
                     ("col_active", self.active)), 480, 420)

    def save(self) -> None:
        try:
            bp = int(Decimal(self.commission.text().strip() or "0") * 100)
        except InvalidOperation:
            bp = -1
        fields = dict(name=self.name.text(), bizno=self.bizno.text().strip() or None,
                      representative=self.representative.text(), address=self.address.text(),
                      phone=self.phone.text(), tax_status=self.tax_status.currentData(),
                      commission_bp=bp, cash_receipt_mandatory=self.mandatory.isChecked(),
                      card_terminal=self.terminal.currentData())

        def write(uow) -> str:
            if self.enterprise:
                svc.update_enterprise(uow, enterprise_id=self.enterprise["id"],
                                      active=self.active.isChecked(), **fields)
                return self.enterprise["id"]
            return svc.add_enterprise(uow, **fields)

        self.commit(write)


class CatalogScreen(QWidget):
    changed = Signal()

    def __init__(self, till: "TillContext", parent=None):
        super().__init__(parent)
        self.till = till
        self.store = till.store
        self.printer = till.printer
        self.sync = till.sync
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        self.products = RowsModel([t("col_name"), t("col_price"), t("col_enterprise"),
                                   t("col_category"), t("col_tax"), t("col_barcodes"),
                                   t("col_stock"), t("col_active"), t("col_sku")])
        self.enterprises = RowsModel([t("col_name"), t("col_bizno"), t("col_tax_status"),
                                      t("col_commission"), t("col_representative"),
                                      t("col_phone"), t("col_active")])
        self.product_view = _view(self.products)
        self.enterprise_view = _view(self.enterprises)
        self.product_view.doubleClicked.connect(lambda _: self.edit_product())
        self.enterprise_view.doubleClicked.connect(lambda _: self.edit_enterprise())
        for view, key, actions in (
                (self.product_view, "tab_products",
                 [("btn_add", self.add_product), ("btn_edit", self.edit_product),
                  ("btn_deactivate", self.toggle_product),
                  ("btn_stock_receive", lambda: self.move_stock("received")),
                  ("btn_stock_count", lambda: self.move_stock("counted")),
                  ("btn_stock_return", lambda: self.move_stock("returned")),
                  ("btn_import", self.import_file), ("btn_export", self.export_file)]),
                (self.enterprise_view, "tab_enterprises",
                 [("btn_add", self.add_enterprise), ("btn_edit", self.edit_enterprise)])):
            page = QWidget()
            pv = QVBoxLayout(page)
            row = QHBoxLayout()
            for text_key, slot in actions:
                b = QPushButton(t(text_key))
                b.setMinimumHeight(44)
                b.clicked.connect(slot)
                row.addWidget(b)
            row.addStretch(1)
            pv.addLayout(row)
            pv.addWidget(view)
            self.tabs.addTab(page, t(key))
        self.reload()

    def reload(self) -> None:
        with self.store.unit_of_work(write=False) as uow:
            products = svc.list_products(uow)
            enterprises = svc.list_enterprises(uow)
        yes, no = t("yes"), t("no")
        self.products.set_rows([
            (p, [p["name"], won(p["price"]), p["enterprise_name"], p["category_name"] or "",
                 t(f"tax_{p['tax_class']}"), " | ".join(p["barcodes"]),
                 "" if p["stock"] is None else str(p["stock"]), yes if p["active"] else no,
                 p["sku"] or ""]) for p in products])
        self.enterprises.set_rows([
            (e, [e["name"], e["bizno"] or "", t(f"status_{e['tax_status']}"),
                 f"{e['commission_bp'] / 100:g}", e["representative"], e["phone"],
                 yes if e["active"] else no]) for e in enterprises])
        self.product_view.resizeColumnsToContents()
        self.enterprise_view.resizeColumnsToContents()

    def _selected(self, view, model) -> dict | None:
        rows = view.selectionModel().selectedRows()
        return model.rows[rows[0].row()][0] if rows else None

    def _after(self, saved) -> None:
        if saved:
            self.reload()
            self.changed.emit()

    def add_product(self) -> None:
        self._after(ProductDialog(self.store, None, self).run())

    def edit_product(self) -> None:
        p = self._selected(self.product_view, self.products)
        if p:
            self._after(ProductDialog(self.store, p, self).run())

    def toggle_product(self) -> None:
        p = self._selected(self.product_view, self.products)
        if not p:
            return
        from pos import audit
        from pos.services import staff
        from ui.staff_pin import NOT_DONE, committed

        def toggle(uow):
            staff.need(uow, "catalog", subject=p["name"][:100])
            svc.set_product_active(uow, product_id=p["id"], active=not p["active"])
            audit.record(uow, "catalog_edit", p["name"][:100],
                         {"what": "product", "active": not p["active"]})

        if committed(self, self.store, toggle) is NOT_DONE:
            return
        self._after(True)

    def move_stock(self, kind: str) -> None:
        """Goods received from the product's enterprise, counted, or returned to it: a stock
        movement (synced to every till of the stall)."""
        from pos.money import MAX_STOCK
        from pos.services.stock import record_stock

        p = self._selected(self.product_view, self.products)
        if not p:
            prompts.error(self, t("stock_pick_product"))
            return
        qty = prompts.ask_int(self, t(f"stock_ask_{kind}", name=p["name"],
                                      stock=p["stock"] if p["stock"] is not None else 0),
                              0 if kind == "counted" else 1, 0 if kind == "counted" else 1,
                              MAX_STOCK)
        if qty is None:
            return
        from ui.staff_pin import NOT_DONE, committed

        moved = committed(self, self.store, lambda uow: record_stock(
            uow, product_id=p["id"], kind=kind, qty=qty))
        if moved is NOT_DONE:
            return
        self.message_stock = t("stock_moved", name=p["name"], change=moved["change"],
                               stock=moved["stock"])
        prompts.info(self, self.message_stock)
        self._after(True)
        for row, (product, _cells) in enumerate(self.products.rows):  # still the one picked
            if product["id"] == p["id"]:
                self.product_view.selectRow(row)

    def add_enterprise(self) -> None:
        self._after(EnterpriseDialog(self.store, None, self).run())

    def edit_enterprise(self) -> None:
        e = self._selected(self.enterprise_view, self.enterprises)
        if e:
            self._after(EnterpriseDialog(self.store, e, self).run())

    def import_file(self, path: str | None = None) -> None:
        if not path:
            path = open_file(self, t("btn_import"), "catalog_open")
        if not path:
            return
        from ui.texts import language

        lang = language()
        from ui.staff_pin import NOT_DONE, committed

        class Kept(Exception):
            """The vendor kept the catalog as it was (a rollback, nothing said)."""

        def run(uow):
            found = import_catalog(uow, Path(path))
            if found.problems and not found.applied:
                if not prompts.confirm(self, found.summary(lang) + "\n\n" +
                                       t("import_skip_ask")):
                    raise Kept()
                found = import_catalog(uow, Path(path), skip_invalid=True)
            return found

        try:
            result = committed(self, self.store, run)
        except Kept:
            return
        except ImportFileError as e:
            prompts.error(self, explain(e))
            return
        if result is NOT_DONE:
            return
        prompts.info(self, result.summary(lang), t("import_result"))
        self._after(True)

    def export_file(self, path: str | None = None) -> None:
        if not path:
            path = save_file(self, t("btn_export"), "catalog.xlsx", "xlsx", "csv")
        if not path:
            return
        with self.store.unit_of_work(write=False) as uow:
            n = export_catalog(uow, Path(path))
        prompts.info(self, t("exported", count=n, path=path))

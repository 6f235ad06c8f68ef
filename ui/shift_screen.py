"""The Shift screen: open with a float, cash in and out, count the drawer by denomination with
the difference shown as you type, X report any time, close with the Z report, past shifts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
from pathlib import Path

from printing.render import measure_for, render
from pos import services as svc
from pos.domain import DomainError
from pos.settlement import DENOMINATIONS, count_total
from pos.store import StoreError
from ui import prompts
from ui.qt import (QFont, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                   QPushButton, QScrollArea, QSpinBox, QTableWidget, QTableWidgetItem, Qt,
                   QVBoxLayout, QWidget, Signal)
from ui.files import open_file, save_file
from ui.texts import explain, language, t, won


if TYPE_CHECKING:
    from ui.context import TillContext


class DenominationGrid(QWidget):
    """A spin box per note and coin; `changed(total)` as the vendor types."""

    changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        self.spins: dict[int, QSpinBox] = {}
        self.subtotals: dict[int, QLabel] = {}
        rows = (len(DENOMINATIONS) + 1) // 2  # notes on the left, coins on the right: it fits
        for k, denom in enumerate(DENOMINATIONS):  # a 1280×720 screen
            row, col = k % rows, 4 * (k // rows)  # column 3: a gap
            label = QLabel(won(denom))
            spin = QSpinBox()
            spin.setRange(0, 9999)
            spin.setMinimumHeight(36)
            spin.setMinimumWidth(90)
            spin.valueChanged.connect(self._changed)
            sub = QLabel(won(0))
            sub.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            grid.addWidget(label, row, col)
            grid.addWidget(spin, row, col + 1)
            grid.addWidget(sub, row, col + 2)
            self.spins[denom] = spin
            self.subtotals[denom] = sub
        self.total_label = QLabel()
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * 1.6)
        f.setBold(True)
        self.total_label.setFont(f)
        self.total_label.setAlignment(Qt.AlignRight)
        grid.setColumnMinimumWidth(3, 36)
        grid.addWidget(self.total_label, rows, 0, 1, 7)
        self._changed()

    def counts(self) -> dict[int, int]:
        return {d: s.value() for d, s in self.spins.items() if s.value()}

    def set_counts(self, counts: dict[int, int]) -> None:
        for d, s in self.spins.items():
            s.blockSignals(True)
            s.setValue(int(counts.get(d, 0)))
            s.blockSignals(False)
        self._changed()

    def total(self) -> int:
        return count_total(self.counts())

    def _changed(self) -> None:
        for d, s in self.spins.items():
            self.subtotals[d].setText(won(d * s.value()))
        self.total_label.setText(f"{t('total')}  {won(self.total())}")
        self.changed.emit(self.total())


class ShiftScreen(QWidget):
    changed = Signal()

    def __init__(self, till: "TillContext", parent=None):
        super().__init__(parent)
        self.till = till
        self.store = till.store
        self.printer = till.printer
        self.sync = till.sync
        self.shift: dict | None = None
        self.figures = None
        outer = QHBoxLayout(self)

        left = QVBoxLayout()
        self.state = QLabel()
        self.state.setWordWrap(True)
        sf = QFont(self.font())
        sf.setPointSizeF(sf.pointSizeF() * 1.2)
        sf.setBold(True)
        self.state.setFont(sf)
        left.addWidget(self.state)
        self.grid_box = QGroupBox()
        gv = QVBoxLayout(self.grid_box)
        self.grid = DenominationGrid()
        self.grid.changed.connect(self._count_changed)
        gv.addWidget(self.grid)
        self.expected = QLabel()
        self.difference = QLabel()
        df = QFont(self.font())
        df.setPointSizeF(df.pointSizeF() * 1.6)
        df.setBold(True)
        self.difference.setFont(df)
        self.difference.setAlignment(Qt.AlignRight)
        self.expected.setAlignment(Qt.AlignRight)
        gv.addWidget(self.expected)
        gv.addWidget(self.difference)
        left.addWidget(self.grid_box)
        row = QHBoxLayout()
        self.open_btn = self._button("shift_open", self.open_shift)
        self.in_btn = self._button("shift_cash_in", lambda: self.move_cash("in"))
        self.out_btn = self._button("shift_cash_out", lambda: self.move_cash("out"))
        self.close_btn = self._button("shift_close", self.close_shift)
        self.drawer_btn = self._button("shift_no_sale", self.no_sale)
        for b in (self.open_btn, self.in_btn, self.out_btn, self.drawer_btn, self.close_btn):
            row.addWidget(b)
        left.addLayout(row)
        left.addStretch(1)
        outer.addLayout(left, 2)

        right = QVBoxLayout()
        self.report_title = QLabel()
        self.report_title.setFont(sf)
        right.addWidget(self.report_title)
        self.report_view = QLabel()
        self.report_view.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        self.report_view.setStyleSheet("background: white;")
        scroll = QScrollArea()
        scroll.setWidget(self.report_view)
        scroll.setWidgetResizable(True)
        right.addWidget(scroll, 5)
        actions = QHBoxLayout()
        self.print_btn = self._button("shift_print", self.print_report)
        self.pdf_btn = self._button("shift_pdf", lambda: self.save_pdf())
        self.settle_btn = self._button("shift_settlement", lambda: self.save_settlement())
        self.stall_btn = self._button("shift_stall_settlement",
                                      lambda: self.save_stall_settlement())
        self.stall_btn.setToolTip(t("shift_stall_settlement_tip"))
        for b in (self.print_btn, self.pdf_btn, self.settle_btn, self.stall_btn):
            actions.addWidget(b)
        right.addLayout(actions)
        self.history = QTableWidget(0, 5)
        self.history.setHorizontalHeaderLabels([t("shift_no"), t("shift_opened"),
                                                t("shift_closed"), t("shift_net"),
                                                t("shift_difference")])
        self.history.verticalHeader().setVisible(False)
        self.history.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.history.setSelectionBehavior(QTableWidget.SelectRows)
        self.history.setEditTriggers(QTableWidget.NoEditTriggers)
        self.history.itemSelectionChanged.connect(self._history_selected)
        right.addWidget(self.history, 1)
        self.history.setMinimumHeight(90)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        right.addWidget(self.message)
        outer.addLayout(right, 3)
        self.reload()

    def _button(self, key, slot) -> QPushButton:
        b = QPushButton(t(key))
        b.setMinimumHeight(48)
        b.clicked.connect(slot)
        return b

    # -- state ----------------------------------------------------------------------------------
    def reload(self, select_id: str | None = None) -> None:
        with self.store.unit_of_work(write=False) as uow:
            self.shift = svc.current_shift(uow)
            self.shifts = svc.list_shifts(uow)
            self.figures = (svc.shift_settlement(uow, shift_id=self.shift["id"])
                            if self.shift else None)
        is_open = self.shift is not None
        if is_open:
            self.state.setText(t("shift_state_open", number=self.shift["number"],
                                 opened=self.shift["opened_at"][:16].replace("T", " "),
                                 float=won(self.shift["float_amount"])))
            self.grid_box.setTitle(t("shift_count_title"))
        else:
            self.state.setText(t("shift_state_none"))
            self.grid_box.setTitle(t("shift_float_title"))
        for b in (self.in_btn, self.out_btn, self.drawer_btn, self.close_btn):
            b.setEnabled(is_open)
        self.open_btn.setEnabled(not is_open)
        self.grid.set_counts({})
        self._count_changed(0)
        self.history.setRowCount(len(self.shifts))
        for r, s in enumerate(self.shifts):
            cells = [f"#{s['number']}", s["opened_at"][:16].replace("T", " "),
                     (s["closed_at"] or "")[:16].replace("T", " "), "", ""]
            if s["status"] == "closed":
                cells[4] = won(s["difference"] or 0)
                cells[3] = won(json.loads(s["report"])["net"]) if s.get("report") else ""
            for c, text in enumerate(cells):
                self.history.setItem(r, c, QTableWidgetItem(text))
        if is_open:
            self.show_report("x", self.shift, self.figures)
        elif self.shifts:
            target = next((i for i, s in enumerate(self.shifts) if s["id"] == select_id), 0)
            self.history.selectRow(target)
            self._history_selected()
        else:
            self.report_view.clear()
            self.report_title.setText("")
        for b in (self.print_btn, self.pdf_btn, self.settle_btn):
            b.setEnabled(bool(self.shifts))

    def _count_changed(self, total: int) -> None:
        if self.shift is None or self.figures is None:
            self.expected.setText("")
            self.difference.setText("")
            return
        expected = self.figures.cash.expected
        diff = total - expected
        self.expected.setText(t("shift_expected", amount=won(expected)))
        self.difference.setText(t("shift_diff", amount=won(diff)))
        color = "#1b5e20" if diff == 0 else ("#b3261e" if diff < 0 else "#1565c0")
        self.difference.setStyleSheet(f"color: {color};")

    def _history_selected(self) -> None:
        rows = self.history.selectionModel().selectedRows()
        if not rows:
            return
        chosen = self.shifts[rows[0].row()]
        with self.store.unit_of_work(write=False) as uow:
            shift = svc.get_shift(uow, shift_id=chosen["id"])
            figures = svc.shift_settlement(uow, shift_id=shift["id"])
        self.show_report("z" if shift["status"] == "closed" else "x", shift, figures)

    # -- reports --------------------------------------------------------------------------------
    def report_items(self, kind, shift, figures, columns=48):
        from printing.reports import layout_shift_report

        with self.store.unit_of_work(write=False) as uow:
            labels = {m.code: m.label(language()) for m in svc.payment_methods(uow).values()}
            identity = {**svc.till_settings(uow).store, "till": self.store.device["code"]}
        return layout_shift_report(figures, kind=kind, columns=columns, lang=language(),
                                   store=identity, shift=shift, method_labels=labels,
                                   printed_at=self.store.clock.now())

    def show_report(self, kind, shift, figures) -> None:
        """The report as the receipt printer would print it: its rows, drawn sharp at the
        screen's resolution (`ui.report_view`)."""
        from ui.report_view import report_pixmap

        self.shown = (kind, shift, figures)
        columns = 42
        items = self.report_items(kind, shift, figures, columns)
        self.shown_lines = [r.text(columns) for r in items if hasattr(r, "text")]
        self.report_view.setPixmap(report_pixmap(items, columns, width=440))
        self.report_title.setText(t(f"shift_{kind}_title", number=shift["number"]))

    def print_report(self) -> None:
        if not getattr(self, "shown", None):
            return
        kind, shift, figures = self.shown
        queued = self.printer.print_rendered(
            "report", lambda prof: render(self.report_items(kind, shift, figures,
                                                            measure_for(prof)), prof))
        if not queued:
            prompts.info(self, t("reprint_no_printer"))
            return
        self.message.setText(t("printer_queued"))

    def _context(self):
        with self.store.unit_of_work(write=False) as uow:
            labels = {m.code: m.label(language()) for m in svc.payment_methods(uow).values()}
            identity = {**svc.till_settings(uow).store, "till": self.store.device["code"]}
            enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
        return labels, identity, enterprises

    def save_pdf(self, path: str | None = None) -> str | None:
        if not getattr(self, "shown", None):
            return None
        kind, shift, figures = self.shown
        if not path:
            path = save_file(self, t("shift_pdf"), f"{kind}-report-{shift['number']}.pdf", "pdf")
        if not path:
            return None
        from printing.pdf import shift_report_pdf

        labels, identity, _ = self._context()
        shift_report_pdf(path, figures, kind=kind, lang=language(), store=identity, shift=shift,
                         method_labels=labels, printed_at=self.store.clock.now())
        self.message.setText(t("saved_to", path=path))
        return path

    def save_settlement(self, path: str | None = None) -> str | None:
        if not getattr(self, "shown", None):
            return None
        _kind, shift, figures = self.shown
        if not path:
            path = save_file(self, t("shift_settlement"), f"settlement-{shift['number']}.pdf",
                             "pdf")
        if not path:
            return None
        from printing.pdf import settlement_pdf
        from printing.reports import settlement_csv

        labels, identity, enterprises = self._context()
        settlement_pdf(path, figures, enterprises=enterprises, lang=language(), store=identity,
                       shift=shift, method_labels=labels, printed_at=self.store.clock.now())
        csv_path = str(Path(path).with_suffix(".csv"))
        settlement_csv(csv_path, figures, enterprises=enterprises, methods=list(labels),
                       lang=language(), method_labels=labels)
        self.message.setText(t("saved_to", path=f"{path}, {csv_path}"))
        return path

    def save_stall_settlement(self, path: str | None = None) -> None:
        """The day's settlement of the whole stall (every till, from the server), as PDF and
        CSV: asked off the GUI thread; it says which tills are in it up to when."""
        with self.store.unit_of_work(write=False) as uow:
            day = svc.receipt_outlook(uow)[0]
        if not path:
            path = save_file(self, t("shift_stall_settlement"), f"stall-settlement-{day}.pdf",
                             "pdf")
        if not path:
            return
        self.stall_btn.setEnabled(False)
        self.message.setText(t("stall_settlement_asking"))
        self.sync.stall_settlement(day, lambda made, error: self._stall_done(path, made, error))

    def _stall_done(self, path: str, made, error) -> None:
        self.stall_btn.setEnabled(True)
        if error is not None:
            self.message.setText("")
            if error.code in ("sync_offline", "sync_server_error", "sync_garbage", "sync_busy"):
                prompts.error(self, t("stall_settlement_offline"))
            else:
                prompts.error(self, explain(error))
            return
        from printing.pdf import settlement_pdf
        from printing.reports import settlement_csv

        labels, identity, enterprises = self._context()
        identity = {**identity, "till": made.till_label(language())}
        notes = made.till_notes(language())
        settlement_pdf(path, made.settlement, enterprises=enterprises, lang=language(),
                       store=identity, day=made.day, method_labels=labels, notes=notes,
                       printed_at=self.store.clock.now())
        csv_path = str(Path(path).with_suffix(".csv"))
        settlement_csv(csv_path, made.settlement, enterprises=enterprises, methods=list(labels),
                       lang=language(), method_labels=labels)
        self.message.setText("\n".join([t("saved_to", path=f"{path}, {csv_path}"), *notes]))

    # -- actions --------------------------------------------------------------------------------
    def _do(self, action) -> bool:
        """`action(uow)` committed; what the person may not do asks a manager's PIN first."""
        from ui.staff_pin import NOT_DONE, committed

        result = committed(self, self.store, action)
        if result is NOT_DONE:
            return False
        self._last = result
        return True

    def open_shift(self) -> None:
        counts = self.grid.counts()
        if self._do(lambda uow: svc.open_shift(uow, counts=counts)):
            self.reload()
            self.changed.emit()
            if self._last.get("clock_note"):  # the clock looks wrong: say so before selling
                from pos.errors import CodedError

                code, params = self._last["clock_note"]
                prompts.error(self, explain(CodedError(code, **params)))

    def move_cash(self, kind: str) -> None:
        amount = prompts.ask_int(self, t(f"shift_cash_{kind}_amount"), 0, 0, 100_000_000)
        if not amount:
            return
        reason = prompts.ask_text(self, t("shift_cash_reason"))
        if reason is None:
            return
        if self._do(lambda uow: svc.move_cash(uow, kind=kind, amount=amount, reason=reason)):
            self.message.setText(t("shift_cash_done", amount=won(amount)))
            self.reload()

    def no_sale(self) -> None:
        """Open the drawer without a sale (change for a neighbour, a miscount): with a reason,
        recorded in the audit log; a cashier may need a manager."""
        reason = prompts.ask_text(self, t("shift_no_sale_reason"))
        if reason is None or not reason.strip():
            return
        if self._do(lambda uow: svc.open_drawer(uow, reason=reason)):
            self.message.setText(t("shift_no_sale_done"))

    def close_shift(self) -> None:
        if self.shift is None:
            return
        if self.till.parked_carts() and not prompts.confirm(self, t("shift_parked_carts",
                                                                count=self.till.parked_carts())):
            return
        counts = self.grid.counts()
        total = count_total(counts)
        diff = total - self.figures.cash.expected
        if not prompts.confirm(self, t("shift_close_confirm", counted=won(total),
                                       diff=won(diff))):
            return
        reason = None
        if diff:  # a difference is explained, kept and printed on the Z
            reason = prompts.ask_text(self, t("shift_diff_reason_ask", diff=won(diff)))
            if reason is None:
                return
            if not reason.strip():
                prompts.error(self, t("shift_diff_reason_needed"))
                return
        if self._do(lambda uow: svc.close_shift(uow, counts=counts, reason=reason)):
            closed, figures = self._last
            self.reload(select_id=closed["id"])
            self.show_report("z", closed, figures)
            failed = self._last.backup_error
            if failed is None:
                self.message.setText(t("shift_closed_msg", number=closed["number"],
                                       diff=won(closed["difference"])))
            else:  # the close stands; only its backup copy is missing
                warning = t("shift_closed_backup_failed", problem=explain(failed))
                self.message.setText(t("shift_closed_msg_no_backup", number=closed["number"],
                                       diff=won(closed["difference"])) + "\n" + warning)
            self.changed.emit()
            if failed is not None:
                prompts.error(self, warning)

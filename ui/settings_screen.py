"""Settings: store identity, payment methods and their change policy, language, receipts.

Enterprises of the stall are edited on the Catalog screen's Enterprises tab."""

from __future__ import annotations

from dataclasses import replace

from pos import bizno
from pos import services as svc
from pos.domain import ChangePolicy, MethodKind
from ui import prompts
from ui.qt import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                   QLabel, QLineEdit, QPushButton, QScrollArea, QTableWidget, QTableWidgetItem,
                   QVBoxLayout, QWidget, Signal)
from ui.texts import t

STORE_FIELDS = (("name", "store_name"), ("bizno", "col_bizno"),
                ("representative", "col_representative"), ("address", "col_address"),
                ("phone", "col_phone"))


class SettingsScreen(QWidget):
    changed = Signal()

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll)

        identity = QGroupBox(t("store_identity"))
        form = QFormLayout(identity)
        self.store_fields: dict[str, QLineEdit] = {}
        for key, label in STORE_FIELDS:
            edit = QLineEdit()
            self.store_fields[key] = edit
            form.addRow(t(label), edit)
        layout.addWidget(identity)

        pay = QGroupBox(t("payment_methods"))
        pv = QVBoxLayout(pay)
        self.methods_table = QTableWidget(0, 4)
        self.methods_table.setHorizontalHeaderLabels([t("col_active"), t("col_method"),
                                                      "English", t("col_change_policy")])
        self.methods_table.verticalHeader().setVisible(False)
        self.methods_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.methods_table.setMinimumHeight(260)
        pv.addWidget(self.methods_table)
        layout.addWidget(pay)

        other = QGroupBox(t("receipt_options"))
        of = QFormLayout(other)
        self.receipt_mode = QComboBox()
        for mode in ("ask", "always", "never"):
            self.receipt_mode.addItem(t(f"receipt_{mode}"), mode)
        self.footer = QLineEdit()
        self.language = QComboBox()
        self.language.addItem("한국어", "ko")
        self.language.addItem("English", "en")
        of.addRow(t("receipt_mode"), self.receipt_mode)
        of.addRow(t("receipt_footer"), self.footer)
        of.addRow(t("language"), self.language)
        of.addRow(QLabel(t("language_restart")))
        layout.addWidget(other)

        row = QHBoxLayout()
        row.addStretch(1)
        self.save_btn = QPushButton(t("btn_save"))
        self.save_btn.setMinimumHeight(48)
        self.save_btn.clicked.connect(self.save)
        row.addWidget(self.save_btn)
        layout.addLayout(row)
        self.message = QLabel("")
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.load()

    def load(self) -> None:
        from ui.texts import language

        with self.store.unit_of_work(write=False) as uow:
            identity = svc.get_setting(uow, "store", {}) or {}
            self.methods = list(svc.payment_methods(uow).values())
            mode = svc.get_setting(uow, "receipt_mode", "ask")
            footer = svc.get_setting(uow, "receipt_footer", "")
            lang = svc.get_setting(uow, "language", language())
        for key, edit in self.store_fields.items():
            edit.setText(identity.get(key, ""))
        self.methods_table.setRowCount(len(self.methods))
        self.policy_boxes: list[QComboBox] = []
        self.active_boxes: list[QCheckBox] = []
        for row, m in enumerate(self.methods):
            active = QCheckBox()
            active.setChecked(m.active)
            self.methods_table.setCellWidget(row, 0, active)
            self.methods_table.setItem(row, 1, QTableWidgetItem(m.label_ko))
            self.methods_table.setItem(row, 2, QTableWidgetItem(m.label_en))
            policy = QComboBox()
            for p in ChangePolicy:
                policy.addItem(t(f"policy_{p.value}"), p.value)
            policy.setCurrentIndex(policy.findData(m.change_policy.value))
            policy.setEnabled(m.kind in (MethodKind.VOUCHER, MethodKind.TOKEN))
            self.methods_table.setCellWidget(row, 3, policy)
            self.policy_boxes.append(policy)
            self.active_boxes.append(active)
        self.receipt_mode.setCurrentIndex(self.receipt_mode.findData(mode))
        self.footer.setText(footer)
        self.language.setCurrentIndex(self.language.findData(lang))

    def save(self) -> None:
        identity = {key: edit.text().strip() for key, edit in self.store_fields.items()}
        if identity["bizno"]:
            if not bizno.is_valid(identity["bizno"]):
                prompts.error(self, t("bad_number", value=identity["bizno"]))
                return
            identity["bizno"] = bizno.normalize(identity["bizno"])
        methods = []
        for row, m in enumerate(self.methods):
            methods.append(replace(
                m, active=self.active_boxes[row].isChecked(),
                label_ko=self.methods_table.item(row, 1).text().strip() or m.label_ko,
                label_en=self.methods_table.item(row, 2).text().strip() or m.label_en,
                change_policy=ChangePolicy(self.policy_boxes[row].currentData())))
        with self.store.unit_of_work() as uow:
            svc.set_setting(uow, "store", identity)
            svc.set_payment_methods(uow, methods)
            svc.set_setting(uow, "receipt_mode", self.receipt_mode.currentData())
            svc.set_setting(uow, "receipt_footer", self.footer.text())
            svc.set_setting(uow, "language", self.language.currentData())
            uow.commit()
        self.message.setText(t("saved"))
        self.load()
        self.changed.emit()

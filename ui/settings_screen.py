"""Settings: store identity, payment methods and their change policy, language, receipts.

Enterprises of the stall are edited on the Catalog screen's Enterprises tab."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import replace

from pos import bizno
from pos import services as svc
from pos.domain import ChangePolicy, MethodKind
from pos.errors import CodedError
from pos.i18n import language_name, languages
from ui import prompts
from ui.qt import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                   QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox, QTableWidget,
                   QTableWidgetItem, QTimer, QVBoxLayout, QWidget, Signal)
from ui.texts import explain, language, t

if TYPE_CHECKING:
    from ui.context import TillContext


STORE_FIELDS = (("name", "store_name"), ("bizno", "col_bizno"),
                ("representative", "col_representative"), ("address", "col_address"),
                ("phone", "col_phone"))


class SettingsScreen(QWidget):
    changed = Signal()

    def __init__(self, till: "TillContext", parent=None):
        super().__init__(parent)
        self.till = till
        self.store = till.store
        self.printer = till.printer
        self.sync = till.sync
        outer = QVBoxLayout(self)
        self.scroll = scroll = QScrollArea()
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

        self._build_printer(layout)
        self._build_sync(layout)

        other = QGroupBox(t("receipt_options"))
        of = QFormLayout(other)
        self.receipt_mode = QComboBox()
        for mode in ("ask", "always", "never"):
            self.receipt_mode.addItem(t(f"receipt_{mode}"), mode)
        self.footer = QLineEdit()
        self.language = QComboBox()
        for code in languages():  # each catalogue names its own language
            self.language.addItem(language_name(code), code)
        of.addRow(t("receipt_mode"), self.receipt_mode)
        of.addRow(t("receipt_footer"), self.footer)
        self.receipt_qr = QLineEdit()
        self.receipt_qr.setPlaceholderText("https://smartstore.example/…")
        of.addRow(t("receipt_qr"), self.receipt_qr)
        logo_row = QHBoxLayout()
        self.receipt_logo = QLineEdit()
        pick = QPushButton("…")
        pick.clicked.connect(self._pick_logo)
        logo_row.addWidget(self.receipt_logo, 1)
        logo_row.addWidget(pick)
        of.addRow(t("receipt_logo"), logo_row)
        self.group_by_enterprise = QCheckBox(t("receipt_group"))
        of.addRow("", self.group_by_enterprise)
        # who sells at a joint stall, chosen at set-up: it decides who issues cash receipts
        self.seller_model = QComboBox()
        for model in ("enterprise", "consignment"):
            self.seller_model.addItem(t(f"seller_model_{model}"), model)
        of.addRow(t("seller_model"), self.seller_model)
        self.scan_error_sound = QCheckBox(t("scan_error_sound"))
        of.addRow("", self.scan_error_sound)
        of.addRow(t("language"), self.language)
        of.addRow(QLabel(t("language_restart")))
        layout.addWidget(other)

        people = QGroupBox(t("settings_staff_group"))
        pr = QHBoxLayout(people)
        self.staff_btn = QPushButton(t("settings_staff_btn"))
        self.audit_btn = QPushButton(t("settings_audit_btn"))
        for b, slot in ((self.staff_btn, self.open_staff), (self.audit_btn, self.open_audit)):
            b.setMinimumHeight(44)
            b.clicked.connect(slot)
            pr.addWidget(b)
        pr.addStretch(1)
        layout.addWidget(people)

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


    def _build_printer(self, layout) -> None:
        from printing.profiles import PRESETS

        group = QGroupBox(t("printer_group"))
        form = QFormLayout(group)
        from ui.printer_choice import PrinterChoice

        self.printer_url = QLineEdit()
        self.printer_url.setMinimumWidth(300)
        self.printer_choice = PrinterChoice(self.printer_url)
        self.printer_profile = QComboBox()
        for key, prof in PRESETS.items():
            self.printer_profile.addItem(t("printer_profile_label", name=prof.label(language()),
                                           paper=58 if prof.dots <= 400 else 80,
                                           columns=prof.columns), key)
        self.printer_drawer = QCheckBox(t("printer_drawer"))
        self.printer_status = QCheckBox(t("printer_status"))
        self.printer_status.setToolTip(t("printer_status_tip"))
        self.printer_profile.currentIndexChanged.connect(self._profile_defaults)
        tune = QHBoxLayout()
        self.printer_dots = QSpinBox()
        self.printer_dots.setRange(128, 1024)
        self.printer_dots.setPrefix(t("printer_dots_prefix"))
        self.printer_dots.setSuffix(t("printer_dots_suffix"))
        self.printer_columns = QSpinBox()
        self.printer_columns.setRange(16, 80)
        self.printer_columns.setPrefix(t("printer_columns_prefix"))
        self.printer_columns.setSuffix(t("printer_columns_suffix"))
        self.printer_renderer = QComboBox()
        self.printer_renderer.addItem(t("renderer_raster"), "raster")
        self.printer_renderer.addItem(t("renderer_text"), "text")
        for w in (self.printer_dots, self.printer_columns, self.printer_renderer):
            tune.addWidget(w)
        tune.addStretch(1)
        test = QPushButton(t("printer_test"))
        test.clicked.connect(self.test_print)
        form.addRow(t("printer_url"), self.printer_choice)
        form.addRow(t("printer_profile"), self.printer_profile)
        form.addRow(t("printer_tune"), tune)
        form.addRow("", self.printer_drawer)
        form.addRow("", self.printer_status)
        form.addRow("", test)
        self.jobs_table = QTableWidget(0, 4)
        self.jobs_table.setHorizontalHeaderLabels([t("col_job"), t("col_receipt"),
                                                   t("col_status"), t("col_error")])
        self.jobs_table.verticalHeader().setVisible(False)
        self.jobs_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.jobs_table.setSelectionBehavior(QTableWidget.SelectRows)
        self.jobs_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.jobs_table.setMinimumHeight(160)
        form.addRow(t("printer_jobs"), self.jobs_table)
        buttons = QHBoxLayout()
        self.retry_btn = QPushButton(t("btn_retry"))
        self.retry_btn.clicked.connect(lambda: self._job_action("retry"))
        self.drop_btn = QPushButton(t("btn_drop"))
        self.drop_btn.clicked.connect(lambda: self._job_action("drop"))
        buttons.addWidget(self.retry_btn)
        buttons.addWidget(self.drop_btn)
        buttons.addStretch(1)
        form.addRow("", buttons)
        layout.addWidget(group)

    def _build_sync(self, layout) -> None:
        group = QGroupBox(t("sync_group"))
        form = QFormLayout(group)
        self.sync_url = QLineEdit()
        self.sync_url.setPlaceholderText("https://jangteo.example.org")
        self.sync_code = QLineEdit()
        self.sync_code.setPlaceholderText("4F2A-9C01-77BE")
        self.sync_info = QLabel(t("sync_not_enrolled_label"))
        row = QHBoxLayout()
        self.enroll_button = enroll = QPushButton(t("sync_enroll"))
        enroll.clicked.connect(self.enroll)
        now = QPushButton(t("sync_now"))
        now.clicked.connect(self.sync.wake)
        row.addWidget(enroll)
        row.addWidget(now)
        row.addStretch(1)
        form.addRow(t("sync_url"), self.sync_url)
        form.addRow(t("sync_code"), self.sync_code)
        form.addRow("", row)
        form.addRow("", self.sync_info)
        layout.addWidget(group)
        # joined a stall that has a catalog: the vendor chooses (shown only while pending)
        self.join_group = join = QGroupBox(t("sync_join_group"))
        box = QVBoxLayout(join)
        self.join_info = QLabel()
        self.join_info.setWordWrap(True)
        self.join_take = QPushButton(t("sync_join_take"))
        self.join_merge = QPushButton(t("sync_join_merge"))
        self.join_take.clicked.connect(lambda: self.join_catalog("take"))
        self.join_merge.clicked.connect(lambda: self.join_catalog("merge"))
        box.addWidget(self.join_info)
        buttons = QHBoxLayout()
        buttons.addWidget(self.join_take)
        buttons.addWidget(self.join_merge)
        buttons.addStretch(1)
        box.addLayout(buttons)
        join.setVisible(False)
        layout.addWidget(join)

    def show_join(self) -> None:
        """The stall's catalog choice, while the till waits for it."""
        plan = self.sync.pending_join()
        self.join_group.setVisible(plan is not None)
        if plan is None:
            return
        lines = [t("sync_join_plan", stall=plan["stall_products"], matched=plan.get("merged_count", 0),
                   own=len(plan["own"]))]
        lines += [t("sync_join_conflict", name=c["name"],
                    why=explain(CodedError(c["why"], **c.get("params", {}))))
                  for c in plan["conflicts"][:10]]
        self.join_info.setText("\n".join(lines))
        QTimer.singleShot(0, lambda: self.scroll.ensureWidgetVisible(self.join_group))

    def join_catalog(self, choice: str) -> None:
        done = self.sync.join_catalog(choice)
        self.join_group.setVisible(False)
        self.sync_info.setText(t("sync_join_done", **done))

    def enroll(self) -> None:
        """Ask the server to enrol this till, off the GUI thread: the vendor can go on selling
        while a slow venue network answers; the button waits until the answer is in."""
        self.enroll_button.setEnabled(False)
        self.sync_info.setText(t("sync_enrolling"))
        self.enrolled = None
        self.sync.enroll(self.sync_url.text().strip(), self.sync_code.text().strip(),
                         self._enrolled)

    def _enrolled(self, info, error) -> None:
        self.enroll_button.setEnabled(True)
        if error is not None:
            # The reason stays beside the button; a dialog only while the vendor is looking at
            # Settings: popped over the Sell screen it would take the next scan and be gone.
            self.sync_info.setText(explain(error))
            self.sync_info.setWordWrap(True)
            self.enrolled = False
            if self.isVisible():
                prompts.error(self, explain(error))
            return
        self.sync_code.clear()
        self.sync_info.setText(t("sync_enrolled", event=info["event"], stall=info["stall"],
                                 code=info["device_code"]))
        self.show_join()
        self.sync.restart()
        self.enrolled = True

    def _profile_defaults(self) -> None:
        from printing.profiles import profile

        prof = profile(self.printer_profile.currentData())
        self.printer_dots.setValue(prof.dots)
        self.printer_columns.setValue(prof.columns)
        self.printer_renderer.setCurrentIndex(self.printer_renderer.findData(prof.renderer))
        self.printer_status.setChecked(prof.status)

    def _overrides(self) -> dict:
        from printing.profiles import profile

        base = profile(self.printer_profile.currentData())
        wanted = {"dots": self.printer_dots.value(), "columns": self.printer_columns.value(),
                  "renderer": self.printer_renderer.currentData(),
                  "status": self.printer_status.isChecked()}
        return {k: v for k, v in wanted.items() if getattr(base, k) != v}

    def find_usb(self) -> list:
        """USB printers found, listed to pick from (the first one chosen)."""
        self.printer_choice.mode.setCurrentIndex(self.printer_choice.mode.findData("usb"))
        return self.printer_choice.find_usb()

    def load_jobs(self) -> None:
        self.jobs = self.printer.recent_jobs(20)
        self.jobs_table.setRowCount(len(self.jobs))
        for row, job in enumerate(self.jobs):
            problem = ""
            if job["last_error"] and job["status"] not in ("done", "dropped", "replaced"):
                from pos.i18n import error_text
                from printing.transport import PrinterError

                problem = error_text(PrinterError(job["last_error"], target=job["printer_url"],
                                                  detail=""), language())
            cells = [f"#{job['id']} {job['kind']}", job["receipt_no"] or "",
                     t(f"job_{job['status']}"), problem]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.jobs_table.setItem(row, col, item)

    def _job_action(self, action: str) -> None:
        rows = self.jobs_table.selectionModel().selectedRows()
        if not rows or self.printer is None:
            return
        job = self.jobs[rows[0].row()]
        try:
            getattr(self.printer, action)(job["id"])
        except ValueError:
            return
        self.load_jobs()

    def test_print(self) -> None:
        self.save()
        if self.printer is not None and self.printer.test_print() is not None:
            self.message.setText(t("printer_queued"))
        self.load_jobs()

    def load(self) -> None:
        from ui.texts import language

        with self.store.unit_of_work(write=False) as uow:
            settings = svc.till_settings(uow)
            self.methods = list(svc.payment_methods(uow).values())
            sync_conf = svc.get_setting(uow, "sync") or {}  # the sync client's own state
        identity, mode, footer = settings.store, settings.receipt_mode, settings.receipt_footer
        lang = settings.language or language()
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
        from printing.profiles import DEFAULT

        printer = settings.printer
        self.printer_choice.set_url(printer.url)
        self.printer_profile.setCurrentIndex(
            max(0, self.printer_profile.findData(printer.profile or DEFAULT)))
        self.printer_drawer.setChecked(printer.drawer)
        self._profile_defaults()
        for key, value in printer.overrides.items():
            if key == "dots":
                self.printer_dots.setValue(value)
            elif key == "columns":
                self.printer_columns.setValue(value)
            elif key == "renderer":
                self.printer_renderer.setCurrentIndex(self.printer_renderer.findData(value))
            elif key == "status":
                self.printer_status.setChecked(bool(value))
        self.sync_url.setText(sync_conf.get("url", ""))
        if sync_conf.get("url"):
            self.sync_info.setText(t("sync_enrolled", event=sync_conf.get("event", ""),
                                     stall=sync_conf.get("stall", ""),
                                     code=self.store.device["code"]))
        self.show_join()
        self.receipt_qr.setText(settings.receipt_qr)
        self._stored_logo = settings.receipt_logo
        self.receipt_logo.setText(self._stored_logo)
        self.group_by_enterprise.setChecked(settings.receipt_group_by_enterprise)
        self.scan_error_sound.setChecked(settings.scan_error_sound)
        self.seller_model.setCurrentIndex(self.seller_model.findData(
            settings.rules.get("seller_model", "enterprise")))
        self.load_jobs()
        self.footer.setText(footer)
        self.language.setCurrentIndex(self.language.findData(lang))

    def _pick_logo(self) -> None:
        from ui.files import open_file

        path = open_file(self, t("receipt_logo"), "image")
        if path:
            self.receipt_logo.setText(path)

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
        logo = self.receipt_logo.text().strip()
        if logo and logo != self._stored_logo:  # a new picture: kept in the data folder
            from printing.receipt import LogoError, keep_logo

            try:
                logo = keep_logo(self.store.data_dir, logo)
            except LogoError as e:
                prompts.error(self, explain(e))
                return
            self.receipt_logo.setText(logo)
        try:
            self._store_settings(identity, methods, logo)
        except CodedError as e:  # nothing was stored
            prompts.error(self, explain(e))
            return
        self.printer.reconfigure()
        self.message.setText(t("saved"))
        self.load()
        self.changed.emit()

    def open_staff(self) -> None:
        from ui.staff_screen import StaffDialog

        dialog = StaffDialog(self, self.store)
        dialog.exec()
        dialog.deleteLater()

    def open_audit(self) -> None:
        from ui.staff_screen import AuditDialog

        dialog = AuditDialog(self, self.store)
        dialog.exec()
        dialog.deleteLater()

    def _store_settings(self, identity, methods, logo) -> None:
        from dataclasses import fields

        from pos import audit

        with self.store.unit_of_work() as uow:
            before, methods_before = svc.till_settings(uow), svc.payment_methods(uow)
            svc.set_payment_methods(uow, methods)
            svc.save_settings(
                uow, store=identity, receipt_mode=self.receipt_mode.currentData(),
                receipt_footer=self.footer.text(), language=self.language.currentData(),
                receipt_qr=self.receipt_qr.text().strip(), receipt_logo=logo,
                receipt_group_by_enterprise=self.group_by_enterprise.isChecked(),
                scan_error_sound=self.scan_error_sound.isChecked(),
                rules={**before.rules, "seller_model": self.seller_model.currentData()})
            url = self.printer_url.text().strip()
            if url:
                from printing.transport import parse_url

                parse_url(url)  # a PrinterError says what is wrong with the address
                self.printer.save_setup(uow, url=url,
                                        profile_key=self.printer_profile.currentData(),
                                        drawer=self.printer_drawer.isChecked(),
                                        overrides=self._overrides())
            else:
                svc.save_settings(uow, printer=svc.PrinterSettings())
            after = svc.till_settings(uow)
            changed = [f.name for f in fields(after)
                       if getattr(after, f.name) != getattr(before, f.name)]
            if list(svc.payment_methods(uow).values()) != list(methods_before.values()):
                changed.append("payment_methods")
            if changed:  # who changed what (the values are in the settings themselves)
                audit.record(uow, "settings_changed", ", ".join(changed), {"names": changed})
            uow.commit()

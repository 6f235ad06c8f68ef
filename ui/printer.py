"""The till's printer: the print worker's thread bridged to the GUI by a signal, receipts
queued after payment, reprints, test pages and previews."""

from __future__ import annotations

from PIL import Image

from pos.store import Store
from printing import queue as pq
from printing.decode import preview
from printing.profiles import PrinterProfile
from ui.qt import QDialog, QImage, QLabel, QObject, QPixmap, QPushButton, QScrollArea, Qt, \
    QVBoxLayout, Signal
from ui.texts import explain, t


class PrinterService(QObject):
    """Owns the worker thread. `state_changed` is emitted on the GUI thread."""

    state_changed = Signal(object)  # pq.QueueState
    _from_worker = Signal(object)

    def __init__(self, store: Store, parent=None, *, send=None):
        super().__init__(parent)
        self.store = store
        self._send = send
        self.worker: pq.PrintWorker | None = None
        self.state: pq.QueueState | None = None
        self._from_worker.connect(self._on_state, Qt.QueuedConnection)
        self.reconfigure()

    def setup(self) -> pq.PrinterSetup | None:
        with self.store.unit_of_work(write=False) as uow:
            return pq.printer_setup(uow)

    def reconfigure(self) -> None:
        """(Re)start the worker after the printer settings changed."""
        self.stop()
        kwargs = {"send": self._send} if self._send else {}
        self.worker = pq.PrintWorker(self.store, listener=self._from_worker.emit, **kwargs)
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def _on_state(self, state: pq.QueueState) -> None:
        self.state = state
        self.state_changed.emit(state)

    def status_text(self) -> str:
        if self.setup() is None:
            return t("status_printer_none")
        s = self.state
        if s is None:
            return t("status_printer_ready")
        if s.interrupted or s.failed:
            return t("status_printer_problem", count=s.interrupted + s.failed)
        if s.sending:
            return t("status_printer_sending")
        if s.waiting:
            return t("status_printer_waiting", count=s.waiting)
        return t("status_printer_ready")

    def last_error_text(self) -> str:
        s = self.state
        if s is None or not s.last_error:
            return ""
        return explain(pq.PrinterError(s.last_error, **(s.last_error_params or {})))

    # -- jobs -----------------------------------------------------------------------------------
    def after_sale(self, doc) -> int | None:
        """Queue what a paid sale prints: its receipt if asked for, the drawer kick for cash."""
        setup = self.setup()
        if setup is None:
            return None
        cash = any(p.method == "cash" and p.amount for p in doc.payments) and setup.drawer
        with self.store.unit_of_work() as uow:
            if doc.receipt_requested:
                job_id = pq.enqueue_receipt(uow, setup, document_id=doc.id, drawer=cash)
            elif cash:
                from printing.render import render

                job_id = pq.enqueue_bytes(uow, setup, kind="drawer",
                                          data=render([], setup.profile, drawer=True))
            else:
                return None
            uow.commit()
        self.wake()
        return job_id

    def reprint(self, document_id: str) -> int | None:
        setup = self.setup()
        if setup is None:
            return None
        with self.store.unit_of_work() as uow:
            job_id = pq.enqueue_receipt(uow, setup, document_id=document_id, copy=True)
            uow.commit()
        self.wake()
        return job_id

    def test_print(self) -> int | None:
        from printing.cli import test_page

        setup = self.setup()
        if setup is None:
            return None
        with self.store.unit_of_work() as uow:
            job_id = pq.enqueue_bytes(uow, setup, kind="test", data=test_page(setup.profile))
            uow.commit()
        self.wake()
        return job_id

    def retry(self, job_id: int) -> None:
        with self.store.unit_of_work() as uow:
            pq.retry(uow, job_id, self.setup())
            uow.commit()
        self.wake()

    def drop(self, job_id: int) -> None:
        with self.store.unit_of_work() as uow:
            pq.drop(uow, job_id)
            uow.commit()
        self.wake()

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def preview_image(self, document_id: str, *, copy: bool = False,
                      profile: PrinterProfile | None = None) -> Image.Image:
        """The receipt as the printer would print it, drawn from the bytes it would be sent."""
        from printing.profiles import profile as make_profile

        setup = self.setup()
        prof = profile or (setup.profile if setup else make_profile(None))
        with self.store.unit_of_work(write=False) as uow:
            data = pq.render_receipt(uow, prof, document_id=document_id, copy=copy)
        return preview(data, prof)


def to_pixmap(image: Image.Image) -> QPixmap:
    gray = image.convert("L")
    data = gray.tobytes()
    qimage = QImage(data, gray.width, gray.height, gray.width, QImage.Format_Grayscale8)
    return QPixmap.fromImage(qimage.copy())


class PreviewDialog(QDialog):
    def __init__(self, image: Image.Image, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        self.label = QLabel()
        self.label.setPixmap(to_pixmap(image))
        self.label.setStyleSheet("background: white; padding: 12px;")
        scroll = QScrollArea()
        scroll.setWidget(self.label)
        scroll.setAlignment(Qt.AlignHCenter)
        layout.addWidget(scroll)
        close = QPushButton(t("btn_close"))
        close.clicked.connect(self.accept)
        layout.addWidget(close)
        self.resize(min(image.width + 80, 700), 720)

    def run(self) -> None:
        self.exec()

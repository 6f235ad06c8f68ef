"""The till's printer for the GUI: the print worker's state in the status bar, reprints, test
pages, reports and previews. A paid sale's receipt and drawer kick are not queued here: the
sale's own transaction writes them (`pos.print_jobs`), and the worker wakes by itself when it
commits (`pos.events`)."""

from __future__ import annotations

from typing import Callable

from PIL import Image

from pos.store import Store
from printing import queue as pq
from printing.decode import preview
from printing.profiles import PrinterProfile
from ui.bridge import WorkerService
from ui.qt import QDialog, QImage, QLabel, QPixmap, QPushButton, QScrollArea, Qt, QVBoxLayout
from ui.texts import explain, t


# what the printer said while taking the job: not a reason for the queue to wait
NOTICES = frozenset({"printer_paper_low", "printer_paused"})


class PrinterService(WorkerService):
    def __init__(self, store: Store, parent=None, *, send=None):
        super().__init__(store, parent)
        self._send = send
        self._address = self._current_address()
        self.restart()

    def make_worker(self, listener):
        kwargs = {"send": self._send} if self._send else {}
        return pq.PrintWorker(self.store, listener=listener, **kwargs)

    def _current_address(self) -> str | None:
        setup = self.setup()
        return setup.url if setup else None

    def reconfigure(self) -> None:
        """After settings were saved. The worker reads the printer's setup for every job, so
        it is only woken; it is restarted only when the printer's address changed, which cuts
        off a receipt stuck at the old printer (saving the footer had cut off a receipt that
        waited for paper, and it could then only be printed as a copy)."""
        address = self._current_address()
        if address != self._address:
            self._address = address
            self.restart()
        else:
            self.wake()

    @staticmethod
    def save_setup(uow, *, url: str, profile_key: str, drawer: bool, overrides: dict) -> None:
        """Store the printer settings in the caller's transaction (an unknown profile raises)."""
        pq.save_printer_setup(uow, url=url, profile_key=profile_key, drawer=drawer,
                              overrides=overrides)

    def setup(self) -> pq.PrinterSetup | None:
        with self.store.unit_of_work(write=False) as uow:
            return pq.printer_setup(uow)

    def status_text(self) -> str:
        if self.setup() is None:
            return t("status_printer_none")
        s = self.state
        if s is None:
            return t("status_printer_ready")
        if s.interrupted or s.failed:
            return t("status_printer_problem", count=s.interrupted + s.failed)
        if s.sending:
            return t("status_printer_paused" if s.last_error == "printer_paused"
                     else "status_printer_sending")
        if s.waiting:
            if s.last_error and s.last_error not in NOTICES:
                # the printer did not take the last try: say why the queue waits
                held = s.last_error.removeprefix("printer_")
                if f"printer_{held}" not in pq.HOLD:
                    held = "unreachable"
                return t("status_printer_held", state=t(f"printer_state_{held}"),
                         count=s.waiting)
            return t("status_printer_waiting", count=s.waiting)
        if s.last_error == "printer_paper_low":
            return t("status_printer_low")
        return t("status_printer_ready")

    def last_error_text(self) -> str:
        s = self.state
        if s is None or not s.last_error:
            return ""
        return explain(pq.PrinterError(s.last_error, **(s.last_error_params or {})))

    # -- jobs the vendor asks for (each wakes the worker through the store's hub) ---------------
    def reprint(self, document_id: str) -> int | None:
        setup = self.setup()
        if setup is None:
            return None
        with self.store.unit_of_work() as uow:
            job_id = pq.enqueue_receipt(uow, setup, document_id=document_id, copy=True)
            uow.commit()
        return job_id

    def print_rendered(self, kind: str, draw: Callable[[PrinterProfile], bytes]) -> int | None:
        """Queue bytes drawn for the till's printer (`draw(profile)`): a report, a test page."""
        setup = self.setup()
        if setup is None:
            return None
        data = draw(setup.profile)
        with self.store.unit_of_work() as uow:
            job_id = pq.enqueue_bytes(uow, setup, kind=kind, data=data)
            uow.commit()
        return job_id

    def test_print(self) -> int | None:
        from printing.cli import test_page

        return self.print_rendered("test", test_page)

    def retry(self, job_id: int) -> None:
        with self.store.unit_of_work() as uow:
            pq.retry(uow, job_id, self.setup())
            uow.commit()

    def drop(self, job_id: int) -> None:
        with self.store.unit_of_work() as uow:
            pq.drop(uow, job_id)
            uow.commit()
        self.wake()  # its state changed: let the status bar hear it

    def recent_jobs(self, limit: int = 30) -> list[dict]:
        with self.store.unit_of_work(write=False) as uow:
            return pq.recent_jobs(uow, limit)

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

"""How the receipt printer is reached, chosen the way a vendor thinks of it: a USB printer
from the ones found, a network printer by its address, a Bluetooth or serial port from the
ones this computer has, or (advanced) the printer address typed in full. Whatever is chosen
becomes the one printer address (`printing.transport` URL) the till stores; a stored address
shows as the choice it is."""

from __future__ import annotations

from ui.qt import (QComboBox, QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QStackedWidget,
                   QWidget)
from ui.texts import t

MODES = ("usb", "network", "serial", "url")
BAUDS = (9600, 19200, 38400, 57600, 115200)


def _parsed(url: str):
    """The address as `printing.transport` reads it, None when it cannot be one."""
    from printing.transport import PrinterError, parse_url

    try:
        return parse_url(url) if url else None
    except PrinterError:
        return None


class PrinterChoice(QWidget):
    def __init__(self, url_edit: QLineEdit, parent=None):
        super().__init__(parent)
        self.url = url_edit  # the address stored; the fields below write it
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.mode = QComboBox()
        for m in MODES:
            self.mode.addItem(t(f"printer_mode_{m}"), m)
        row.addWidget(self.mode)
        self.pages = QStackedWidget()
        row.addWidget(self.pages, 1)
        # USB: the printers found, and a button to look again
        usb = QWidget()
        ur = QHBoxLayout(usb)
        ur.setContentsMargins(0, 0, 0, 0)
        self.usb_list = QComboBox()
        self.usb_find = QPushButton(t("printer_find_usb"))
        ur.addWidget(self.usb_list, 1)
        ur.addWidget(self.usb_find)
        # network: address and port
        net = QWidget()
        nr = QHBoxLayout(net)
        nr.setContentsMargins(0, 0, 0, 0)
        self.host = QLineEdit()
        self.host.setPlaceholderText(t("printer_host_hint"))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(9100)
        self.port.setPrefix(t("printer_port_prefix"))
        nr.addWidget(self.host, 1)
        nr.addWidget(self.port)
        # serial / Bluetooth: the ports this computer has, and the speed
        ser = QWidget()
        sr = QHBoxLayout(ser)
        sr.setContentsMargins(0, 0, 0, 0)
        self.serial_list = QComboBox()
        self.serial_list.setEditable(True)  # a port that is not listed (yet) can be typed
        self.baud = QComboBox()
        for b in BAUDS:
            self.baud.addItem(t("printer_baud", baud=b), b)
        self.serial_find = QPushButton(t("printer_find_ports"))
        sr.addWidget(self.serial_list, 1)
        sr.addWidget(self.baud)
        sr.addWidget(self.serial_find)
        # advanced: the address itself
        adv = QWidget()
        ar = QHBoxLayout(adv)
        ar.setContentsMargins(0, 0, 0, 0)
        ar.addWidget(self.url)
        self.url.setPlaceholderText(t("printer_url_hint"))
        for page in (usb, net, ser, adv):
            self.pages.addWidget(page)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.usb_find.clicked.connect(self.find_usb)
        self.serial_find.clicked.connect(self.find_ports)
        self.usb_list.activated.connect(lambda _i: self._write())
        self.host.textEdited.connect(lambda _t: self._write())
        self.port.valueChanged.connect(lambda _v: self._write())
        self.serial_list.activated.connect(lambda _i: self._write())
        self.serial_list.editTextChanged.connect(lambda _t: self._write())
        self.baud.activated.connect(lambda _i: self._write())
        self._loading = False

    # -- lists ----------------------------------------------------------------------------------
    def find_usb(self) -> list:
        from printing.transport import usb_printers

        found = usb_printers()
        self.usb_list.clear()
        for url, name in found:
            self.usb_list.addItem(f"{name}  ({url.removeprefix('usb://')})", url)
        if not found:
            self.usb_list.addItem(t("printer_none_found"), None)
        self._write()
        return found

    def find_ports(self) -> list:
        from printing.transport import serial_ports

        found = serial_ports()
        current = self.serial_list.currentText()
        self.serial_list.blockSignals(True)
        self.serial_list.clear()
        for url, name in found:
            self.serial_list.addItem(name, _parsed(url).target)
        self.serial_list.blockSignals(False)
        if current and not found:
            self.serial_list.setEditText(current)
        self._write()
        return found

    # -- address <-> fields ---------------------------------------------------------------------
    def _mode_changed(self, _i: int) -> None:
        mode = self.mode.currentData()
        self.pages.setCurrentIndex(MODES.index(mode))
        if self._loading:
            return
        if mode == "usb" and self.usb_list.count() == 0:
            self.find_usb()
        elif mode == "serial" and self.serial_list.count() == 0:
            self.find_ports()
        self._write()

    def _write(self) -> None:
        """The chosen fields as the printer address (not in the advanced mode, where the
        address is what is typed)."""
        if self._loading:
            return
        mode = self.mode.currentData()
        url = None
        if mode == "usb":
            url = self.usb_list.currentData() or ""
        elif mode == "network":
            host = self.host.text().strip()
            url = f"tcp://{host}:{self.port.value()}" if host else ""
        elif mode == "serial":
            port = self.serial_list.currentData() if self.serial_list.currentText() == \
                self.serial_list.itemText(self.serial_list.currentIndex()) else None
            port = port or self.serial_list.currentText().split(" ")[0].strip()
            url = f"serial://{port}?baud={self.baud.currentData()}" if port else ""
        if url is not None:
            self.url.setText(url)

    def set_url(self, url: str) -> None:
        """Show a stored address as the choice it is."""
        self._loading = True
        try:
            parsed = _parsed(url)
            mode = {"usb": "usb", "tcp": "network", "serial": "serial"}.get(
                parsed.scheme if parsed else "", "url" if url else "usb")
            self.url.setText(url or "")
            if mode == "usb" and url:
                if self.usb_list.findData(url) < 0:
                    self.usb_list.addItem(url.removeprefix("usb://"), url)
                self.usb_list.setCurrentIndex(self.usb_list.findData(url))
            elif mode == "network":
                host, _, port = parsed.target.rpartition(":")
                if not host:
                    host, port = parsed.target, ""
                self.host.setText(host.strip("[]"))
                self.port.setValue(int(port) if port.isdigit() else 9100)
            elif mode == "serial":
                device = parsed.target
                if self.serial_list.findData(device) < 0:
                    self.serial_list.addItem(device, device)
                self.serial_list.setCurrentIndex(self.serial_list.findData(device))
                baud = int(parsed.options.get("baud", "9600"))  # checked by `parse_url`
                if self.baud.findData(baud) < 0:
                    self.baud.addItem(t("printer_baud", baud=baud), baud)
                self.baud.setCurrentIndex(self.baud.findData(baud))
            self.mode.setCurrentIndex(MODES.index(mode))
            self.pages.setCurrentIndex(MODES.index(mode))
        finally:
            self._loading = False

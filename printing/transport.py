"""Printer transports chosen by URL, with errors a vendor can act on.

    tcp://192.168.0.50:9100        network printer (raw port 9100)
    usb://04b8:0e15                USB printer by vendor:product id (libusb)
    serial:///dev/ttyUSB0?baud=9600   serial or Bluetooth serial port (COM3 on Windows)
    file:///dev/usb/lp0            a device file (Linux usblp) or any file
    cups://QUEUE                   a CUPS queue, sent raw (lp -o raw)
    win32://Printer Name           a Windows printer queue, sent raw

`send` raises `PrinterError`; its `partial` flag says whether some bytes may already have
reached the printer (the job must then not be resent as if it were the original).
"""

from __future__ import annotations

import errno
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlparse
from pos.errors import CodedError


class PrinterError(CodedError, RuntimeError):
    """`code` keys the message in `pos.i18n`; `partial` says some bytes reached the printer."""

    def __init__(self, code: str, /, *, partial: bool = False, **params):
        super().__init__(code, **params)
        self.partial = partial


@dataclass(frozen=True)
class PrinterUrl:
    scheme: str
    target: str
    options: dict

    def __str__(self) -> str:
        return f"{self.scheme}://{self.target}"


def parse_url(url: str) -> PrinterUrl:
    """A printer address, checked: anything that cannot be one is `printer_url_invalid`."""
    if not isinstance(url, str) or not url or "://" not in url or len(url) > 500 or \
            not url.isprintable():
        raise PrinterError("printer_url_invalid", url=str(url)[:200])
    try:
        u = urlparse(url)
        options = {k: v[-1] for k, v in parse_qs(u.query).items()}
    except ValueError:  # e.g. an IPv6 bracket left open
        raise PrinterError("printer_url_invalid", url=url) from None
    scheme = u.scheme.lower()
    if "baud" in options and not (options["baud"].isascii() and options["baud"].isdigit()
                                  and 300 <= int(options["baud"]) <= 4_000_000):
        raise PrinterError("printer_url_invalid", url=url)
    if scheme == "tcp":
        host, _, port = u.netloc.rpartition(":")
        if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise PrinterError("printer_url_invalid", url=url)
        if any(len(label) > 63 for label in (host or u.netloc).split(".")):
            raise PrinterError("printer_url_invalid", url=url)
    if scheme in ("tcp", "usb", "cups", "win32"):
        target = unquote(u.netloc + u.path).rstrip("/") if scheme != "tcp" else u.netloc
    elif scheme in ("serial", "file"):
        target = unquote(u.netloc + u.path)
    else:
        raise PrinterError("printer_url_invalid", url=url)
    if not target:
        raise PrinterError("printer_url_invalid", url=url)
    return PrinterUrl(scheme, target, options)


def send(url: str, data: bytes, *, timeout: float = 10.0) -> None:
    """Send `data` to the printer at `url`, whole, or raise `PrinterError`."""
    p = parse_url(url)
    {"tcp": _tcp, "usb": _usb, "serial": _serial, "file": _file, "cups": _cups,
     "win32": _win32}[p.scheme](p, data, timeout)


def _tcp(p: PrinterUrl, data: bytes, timeout: float) -> None:
    host, _, port = p.target.rpartition(":")
    if not host:
        host, port = p.target, "9100"
    try:
        port_no = int(port)
    except ValueError:
        raise PrinterError("printer_url_invalid", url=str(p)) from None
    try:
        sock = _connect(host, port_no, min(timeout, 5.0))
    except ConnectionRefusedError:
        raise PrinterError("printer_off", target=p.target) from None
    except (socket.timeout, TimeoutError):
        raise PrinterError("printer_unreachable", target=p.target) from None
    except socket.gaierror:
        raise PrinterError("printer_unreachable", target=p.target) from None
    except OSError as e:
        raise PrinterError("printer_unreachable", target=p.target, detail=str(e)) from None
    sent = 0
    try:
        sock.settimeout(timeout)
        view = memoryview(data)
        while sent < len(data):
            n = sock.send(view[sent:sent + 4096])
            if n == 0:
                raise PrinterError("printer_dropped", partial=True, target=p.target)
            sent += n
        sock.shutdown(socket.SHUT_WR)
        _drain(sock, timeout)
    except (socket.timeout, TimeoutError):
        raise PrinterError("printer_stalled", partial=sent > 0, target=p.target,
                           sent=sent, total=len(data)) from None
    except OSError:  # reset, broken pipe, not connected any more: the job was cut off
        raise PrinterError("printer_dropped", partial=True, target=p.target, sent=sent,
                           total=len(data)) from None
    finally:
        sock.close()


SEND_BUFFER = 32 * 1024


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    """A connection with a modest send buffer: a printer that stops taking data (paper out,
    cover open) shows up as a send timeout instead of vanishing into megabytes of kernel
    buffer while the job is reported done."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        sock.settimeout(timeout)
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


def _drain(sock: socket.socket, timeout: float) -> None:
    """Wait until the printer has taken everything (it closes, or stays quiet a moment)."""
    sock.settimeout(min(timeout, 0.5))
    deadline = time.monotonic() + min(timeout, 2.0)
    try:
        while time.monotonic() < deadline:
            if not sock.recv(64):
                return
    except (socket.timeout, TimeoutError):
        return
    except ConnectionResetError:
        raise  # the printer cut the job off: reported as dropped by the caller


def _file(p: PrinterUrl, data: bytes, timeout: float) -> None:
    path = p.target
    try:
        with open(path, "wb", buffering=0) as fh:
            written = 0
            try:
                while written < len(data):
                    written += fh.write(data[written:written + 4096]) or 0
            except OSError as e:
                raise PrinterError("printer_dropped", partial=True, target=path,
                                   detail=str(e)) from None
    except PermissionError:
        raise PrinterError("usb_permission", target=path) from None
    except FileNotFoundError:
        raise PrinterError("printer_not_found", target=path) from None
    except OSError as e:
        if e.errno in (errno.ENODEV, errno.ENXIO, errno.EIO):
            raise PrinterError("printer_off", target=path) from None
        raise PrinterError("printer_error", target=path, detail=str(e)) from None


def _serial(p: PrinterUrl, data: bytes, timeout: float) -> None:
    import serial

    baud = int(p.options.get("baud", 9600))
    try:
        port = serial.Serial(p.target, baudrate=baud, timeout=timeout,
                             write_timeout=max(timeout, len(data) * 10 / baud * 1.5),
                             rtscts=p.options.get("flow") == "rtscts",
                             dsrdtr=p.options.get("flow") == "dsrdtr")
    except serial.SerialException as e:
        text = str(e).lower()
        if "permission" in text:
            raise PrinterError("usb_permission", target=p.target) from None
        if "no such file" in text or "could not open" in text:
            raise PrinterError("printer_not_found", target=p.target) from None
        raise PrinterError("printer_error", target=p.target, detail=str(e)) from None
    try:
        port.write(data)
        port.flush()
    except serial.SerialTimeoutException:
        raise PrinterError("printer_stalled", partial=True, target=p.target, sent=0,
                           total=len(data)) from None
    except serial.SerialException as e:
        raise PrinterError("printer_dropped", partial=True, target=p.target,
                           detail=str(e)) from None
    finally:
        port.close()


def _usb(p: PrinterUrl, data: bytes, timeout: float) -> None:
    try:
        vendor, product = (int(x, 16) for x in p.target.split(":", 1))
    except ValueError:
        raise PrinterError("printer_url_invalid", url=str(p)) from None
    try:
        import usb.core
        from escpos.printer import Usb
    except ImportError:
        raise PrinterError("libusb_missing") from None
    try:
        printer = Usb(vendor, product, timeout=int(timeout * 1000))
        printer.open()
    except usb.core.NoBackendError:
        raise PrinterError("libusb_missing") from None
    except usb.core.USBError as e:
        if getattr(e, "errno", None) == errno.EACCES:
            raise PrinterError("usb_permission", target=p.target) from None
        raise PrinterError("printer_error", target=p.target, detail=str(e)) from None
    except Exception as e:  # escpos raises its own DeviceNotFoundError
        if "not found" in str(e).lower():
            raise PrinterError("printer_not_found", target=p.target) from None
        raise PrinterError("printer_error", target=p.target, detail=str(e)) from None
    try:
        for k in range(0, len(data), 4096):  # slices: big images time out in one transfer
            printer._raw(data[k:k + 4096])
    except usb.core.USBTimeoutError:
        raise PrinterError("printer_stalled", partial=True, target=p.target, sent=0,
                           total=len(data)) from None
    except usb.core.USBError as e:
        raise PrinterError("printer_dropped", partial=True, target=p.target,
                           detail=str(e)) from None
    finally:
        try:
            printer.close()
        except Exception:  # noqa: BLE001 - closing a vanished device may fail too
            pass


def _cups(p: PrinterUrl, data: bytes, timeout: float) -> None:
    lp = shutil.which("lp")
    if lp is None:
        raise PrinterError("cups_missing")
    try:
        run = subprocess.run([lp, "-d", p.target, "-o", "raw"], input=data,
                             capture_output=True, timeout=max(timeout, 10))
    except subprocess.TimeoutExpired:
        raise PrinterError("printer_stalled", partial=False, target=p.target, sent=0,
                           total=len(data)) from None
    if run.returncode != 0:
        raise PrinterError("printer_error", target=p.target,
                           detail=run.stderr.decode(errors="replace").strip())


def _win32(p: PrinterUrl, data: bytes, timeout: float) -> None:
    if sys.platform != "win32":
        raise PrinterError("platform_unsupported", scheme="win32")
    from escpos.printer import Win32Raw

    try:
        printer = Win32Raw(p.target)
        printer.open()
        printer._raw(data)  # one job per receipt; the Windows queue spools it
        printer.close()
    except Exception as e:  # pywin32 errors carry the Windows message
        raise PrinterError("printer_error", target=p.target, detail=str(e)) from None


def usb_printers() -> list[tuple[str, str]]:
    """(url, description) of USB devices with the printer interface class, if libusb works."""
    try:
        import usb.core
        import usb.util

        found = []
        for dev in usb.core.find(find_all=True):
            is_printer = dev.bDeviceClass == 7 or any(
                intf.bInterfaceClass == 7 for cfg in dev for intf in cfg)
            if is_printer:
                try:
                    name = usb.util.get_string(dev, dev.iProduct) or ""
                except Exception:  # noqa: BLE001 - no permission to read strings
                    name = ""
                found.append((f"usb://{dev.idVendor:04x}:{dev.idProduct:04x}",
                              name or f"{dev.idVendor:04x}:{dev.idProduct:04x}"))
        return found
    except Exception:  # noqa: BLE001 - no backend: nothing to list, setup shows the hint
        return []

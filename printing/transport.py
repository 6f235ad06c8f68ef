"""Printer transports chosen by URL, with errors a vendor can act on.

    tcp://192.168.0.50:9100        network printer (raw port 9100)
    usb://04b8:0e15                USB printer by vendor:product id (libusb)
    serial:///dev/ttyUSB0?baud=9600   serial or Bluetooth serial port (COM3 on Windows)
    file:///dev/usb/lp0            a device file (Linux usblp) or any file
    cups://QUEUE                   a CUPS queue, sent raw (lp -o raw)
    win32://Printer Name           a Windows printer queue, sent raw

`send` raises `PrinterError`; its `partial` flag says whether some bytes may already have
reached the printer (the job must then not be resent as if it were the original).

A printer that can answer is asked for its state first (ESC/POS real-time status, `DLE EOT`):
paper out, cover open or offline keeps the job unsent and says so. A printer that stops taking
data mid-job (the paper ran out) is waited for, as long as the till runs: the rest of the
receipt follows when it is ready, and the receipt stays the original. A job is done when the
printer answered a status request sent after its last byte, or, from a printer that never
answers, when its network stack acknowledged every byte (not when our own buffer took them).
"""

from __future__ import annotations

import errno
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable
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


# -- the printer's state (ESC/POS real-time status) ---------------------------------------------

STATUS_QUERY = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"  # printer, offline cause, paper sensor
CONFIRM_QUERY = b"\x10\x04\x01"  # after the job: its answer says the printer took every byte
ANSWER_WAIT = 1.5  # a printer that answers at all does so within milliseconds; slow ones, 1 s
TICK = 0.25  # how often a wait looks at the printer's progress and at the till stopping

# Printer addresses that answered a status request in this run. One that did and then does
# not is busy or stopped, not a model without status: its jobs wait instead of going out.
_answered: set[str] = set()


@dataclass(frozen=True)
class PrinterState:
    """What a printer said about itself (`DLE EOT 1`, `2`, `4`)."""

    offline: bool = False
    cover_open: bool = False
    paper_out: bool = False
    paper_low: bool = False
    fault: bool = False

    @property
    def problem(self) -> str | None:
        """The code of what keeps it from printing, or None when it is ready."""
        if self.cover_open:
            return "printer_cover_open"
        if self.paper_out:
            return "printer_paper_out"
        if self.fault:
            return "printer_fault"
        if self.offline:
            return "printer_offline"
        return None


def status_bytes(answer: bytes) -> bytes:
    """The bytes of `answer` that can be status bytes (bits 1 and 4 set, 0 and 7 clear): some
    printers pad each answer (with a 0x00) or send other bytes of their own between them."""
    return bytes(b for b in answer if b & 0x93 == 0x12)


def read_state(answer: bytes) -> PrinterState | None:
    """The state from the answers to `STATUS_QUERY` (the first three status bytes), or None
    when there are not three."""
    found = status_bytes(answer)
    if len(found) < 3:
        return None
    printer, cause, paper = found[:3]
    return PrinterState(offline=bool(printer & 0x08), cover_open=bool(cause & 0x04),
                        paper_out=bool(cause & 0x20) or paper & 0x60 == 0x60,
                        paper_low=paper & 0x0C == 0x0C, fault=bool(cause & 0x40))


def embedded_queries(data: bytes) -> int:
    """Status requests that a printer may find inside `data` itself (and answer)."""
    return sum(data.count(b"\x10\x04" + bytes([n])) for n in (1, 2, 3, 4))


Waiting = Callable[[str | None], None]  # told "printer_paused" when it stops, None when it goes on


def send(url: str, data: bytes, *, timeout: float = 10.0, ask: bool = True,
         cancel: threading.Event | None = None, on_wait: Waiting | None = None,
         when_offline: bytes | None = None, patience: float | None = None,
         before_job: Callable[[], None] | None = None,
         confirm: bool = True) -> PrinterState | None:
    """Send `data` to the printer at `url`, whole, or raise `PrinterError`; returns the state the
    printer reported before the job (None when it did not answer or was not asked).

    `ask`: ask the printer for its state first (where the connection can carry an answer).
    `timeout`: how long a printer that takes nothing may stay silent before `on_wait` hears it
    paused; the send then goes on waiting until the printer takes the rest or `cancel` is set
    (the till stopping), or `patience` more seconds passed (a command), when it raises
    `printer_stalled`.
    `when_offline`: bytes to send instead when the printer reports a problem (a real-time drawer
    pulse opens the drawer even with the paper out); without it the job is refused unsent.
    `before_job`: called once the printer is connected and ready, just before the first byte of
    the job goes (the print queue marks the job as being sent only then); if it raises, nothing
    of the job is sent. `confirm`: ask a printer that answers for its state after the job too
    (a drawer kick needs no such proof)."""
    p = parse_url(url)
    if p.scheme == "tcp":
        return _tcp(p, data, timeout, ask, cancel, on_wait, when_offline, patience, before_job,
                    confirm)
    if before_job is not None:
        before_job()
    {"usb": _usb, "serial": _serial, "file": _file, "cups": _cups,
     "win32": _win32}[p.scheme](p, data, timeout)
    return None


def _tcp(p: PrinterUrl, data: bytes, timeout: float, ask: bool,
         cancel: threading.Event | None, on_wait: Waiting | None,
         when_offline: bytes | None, patience: float | None,
         before_job: Callable[[], None] | None, confirm: bool) -> PrinterState | None:
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
    link = _Link(sock, p.target, timeout, cancel, on_wait, patience)
    try:
        state = link.ask(str(p)) if ask else None
        if state is not None and state.problem:
            if when_offline is None:
                raise PrinterError(state.problem, target=p.target)
            data = when_offline
        if before_job is not None:
            before_job()
        link.send(data, confirm=state is not None and confirm)
        if state is None and read_state(bytes(link.answers)) is not None:
            _answered.add(str(p))  # it answered after all, only late: ask it from now on
        return state
    finally:
        link.close()


class _Link:
    """One job's connection to a network printer, which knows how much of the job the printer
    has taken (`taken`: acknowledged by the printer, from the socket's unsent count)."""

    def __init__(self, sock: socket.socket, target: str, timeout: float,
                 cancel: threading.Event | None, on_wait: Waiting | None,
                 patience: float | None = None):
        self.sock, self.target, self.timeout = sock, target, timeout
        self.cancel, self.on_wait, self.patience = cancel, on_wait, patience
        self.prefix = 0  # bytes of our own status request before the job
        self.handed = 0  # bytes handed to the socket, prefix included
        self.total = 0
        self.answers = bytearray()
        self.exact = _unsent(sock) is not None  # False where the OS cannot say (not Linux)
        self.paused = False
        self.broken = False
        sock.setblocking(False)

    def taken(self) -> int:
        """Bytes of the job the printer has taken."""
        unsent = _unsent(self.sock) if self.exact else None
        on_wire = self.handed if unsent is None else self.handed - unsent
        return max(0, on_wire - self.prefix)

    def ask(self, key: str) -> PrinterState | None:
        self.prefix = len(STATUS_QUERY)  # not part of the job: taking it prints nothing
        self._write(STATUS_QUERY, idle=ANSWER_WAIT)
        self.key = key
        wait = min(self.timeout, 5.0) if key in _answered else ANSWER_WAIT
        deadline = time.monotonic() + wait
        while len(status_bytes(bytes(self.answers))) < 3 and time.monotonic() < deadline:
            self._read(deadline - time.monotonic())
        state = read_state(bytes(self.answers))
        if state is not None:
            _answered.add(key)
        elif key in _answered:
            raise PrinterError("printer_not_answering", target=self.target)
        self.answers.clear()
        return state

    def send(self, data: bytes, *, confirm: bool) -> None:
        self.total = len(data)
        expect = 1 + embedded_queries(data) if confirm else 0
        self._write(data + (CONFIRM_QUERY if confirm else b""))
        # Every byte is on its way; the job is done when the printer has taken them all (and,
        # if it answers, answered the request after them).
        quiet_since = None
        self._progress()
        while True:
            done_wire = not self.exact or self.taken() >= self.total + len(CONFIRM_QUERY) * confirm
            if self.broken:  # it closed after taking everything: done; before: cut off
                if done_wire and (not confirm or len(self.answers) >= 1):
                    return
                raise self._cut()
            if done_wire and not confirm:
                self._settle()
                return
            if done_wire and len(self.answers) >= expect:
                return
            if done_wire and self.answers and quiet_since is not None and \
                    time.monotonic() - quiet_since > 1.0:
                return  # it answered the last request, not the ones it found in the data
            before = len(self.answers)
            self._read(TICK)
            if len(self.answers) != before or quiet_since is None:
                quiet_since = time.monotonic() if self.answers else None
            self._check_progress()

    # -- waiting on the printer --------------------------------------------------------------
    def _progress(self) -> None:
        self._mark = (self.handed, self.taken(), len(self.answers))
        self._since = time.monotonic()

    def _check_progress(self) -> None:
        """Note the printer pausing (no byte taken for `timeout`), and going on; give up only
        when the till stops."""
        given_up = self.paused and self.patience is not None and \
            time.monotonic() - self._since > self.timeout + self.patience
        # The till stopping (or restarting its worker) cuts off only a job that has not begun
        # or that the printer has stopped taking: one going out normally is let finish.
        stopping = self.cancel is not None and self.cancel.is_set() and \
            (self.paused or self.handed <= self.prefix)
        if given_up or stopping:
            raise PrinterError("printer_stalled", partial=self.taken() > 0, target=self.target,
                               sent=min(self.total, self.taken()), total=self.total)
        mark = (self.handed, self.taken(), len(self.answers))
        if mark != self._mark:
            self._mark, self._since = mark, time.monotonic()
            if self.paused:
                self.paused = False
                self._tell(None)
        elif not self.paused and time.monotonic() - self._since > self.timeout:
            self.paused = True
            self._tell("printer_paused")

    def _tell(self, code: str | None) -> None:
        if self.on_wait is not None:
            try:
                self.on_wait(code)
            except Exception:  # noqa: BLE001 - a listener must not stop the job
                pass

    def _write(self, data: bytes, *, idle: float | None = None) -> None:
        view = memoryview(data)
        start = self.handed
        self._progress()
        while self.handed - start < len(data):
            try:
                _, writable, _ = select.select([], [self.sock], [], TICK)
                if writable:
                    n = self.sock.send(view[self.handed - start:self.handed - start + 4096])
                    if n == 0:
                        raise self._cut()
                    self.handed += n
                else:
                    self._read(0)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                raise self._cut() from None
            if idle is not None and time.monotonic() - self._since > idle:
                raise PrinterError("printer_not_answering", target=self.target)
            self._check_progress()

    def _read(self, wait: float) -> None:
        try:
            readable, _, _ = select.select([self.sock], [], [], max(0.0, wait))
            if readable:
                chunk = self.sock.recv(256)
                if not chunk:  # the printer closed: fine once it has taken everything
                    if self.taken() < self.total:
                        raise self._cut()
                    self.broken = True
                    return
                self.answers += chunk
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            raise self._cut() from None

    def _cut(self) -> PrinterError:
        """The printer reset or closed the connection mid-job. What it had taken cannot be
        told any more (a reset empties the socket's count, and a printer may have read bytes
        it had not yet acknowledged): once any byte of the job was handed over, some of it
        may be on paper."""
        self.broken = True
        return PrinterError("printer_dropped", partial=self.handed > self.prefix,
                            target=self.target, sent=min(self.total, self.taken()),
                            total=self.total)

    def _settle(self) -> None:
        """From a printer that does not answer: the job is done once it closes or stays quiet a
        moment after our end of the connection is closed; a reset then means it was cut off
        (what its network stack took is not yet on paper)."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            raise self._cut() from None
        deadline = time.monotonic() + min(self.timeout, 2.0)
        while time.monotonic() < deadline and not self.broken:
            before = len(self.answers)
            self._read(min(0.5, max(0.0, deadline - time.monotonic())))
            if len(self.answers) == before:
                return

    def close(self) -> None:
        try:
            if not self.broken and self.exact and self.total and self.taken() < self.total:
                # Cut off (the till stops): drop what the printer has not taken, so nothing of
                # this job trickles out later behind the till's back.
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()


def _unsent(sock: socket.socket) -> int | None:
    """Bytes in the socket not yet acknowledged by the other end (Linux `SIOCOUTQ`), or None
    where the system cannot say."""
    try:
        import fcntl
        import termios

        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    except (ImportError, OSError, AttributeError):
        return None


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


def serial_ports() -> list[tuple[str, str]]:
    """(url, description) of the serial ports this computer has: USB-serial adapters and
    paired Bluetooth printers show up as one (COM3, /dev/rfcomm0, /dev/ttyUSB0)."""
    try:
        from serial.tools import list_ports

        found = []
        for port in sorted(list_ports.comports(), key=lambda p: p.device):
            name = port.description if port.description and port.description != "n/a" else ""
            found.append((f"serial://{port.device}?baud=9600", f"{port.device} {name}".strip()))
        return found
    except Exception:  # noqa: BLE001 - no pyserial backend: nothing to list
        return []

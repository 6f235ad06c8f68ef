"""The "may import" column of ARCHITECTURE.md: `pos` loads no Qt, HTTP, escpos or reportlab."""

import subprocess
import sys

from tests.conftest import ROOT

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "httpx", "requests", "urllib3", "fastapi",
             "starlette", "uvicorn", "escpos", "reportlab", "PIL", "ui", "printing", "sync")

PROBE = """
import importlib, pkgutil, sys
import pos
for mod in pkgutil.walk_packages(pos.__path__, "pos."):
    if ".migrations" in mod.name:
        continue
    importlib.import_module(mod.name)
loaded = sorted({name.split(".")[0] for name in sys.modules})
print("\\n".join(loaded))
"""


def test_importing_every_pos_module_loads_no_gui_http_or_printer_library():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert "pos" in loaded and "sqlalchemy" in loaded
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)


PRINTING_PROBE = """
import importlib, pkgutil, sys
import printing
for mod in pkgutil.walk_packages(printing.__path__, "printing."):
    importlib.import_module(mod.name)
print("\\n".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_printing_loads_no_gui_or_http_library():
    out = subprocess.run([sys.executable, "-c", PRINTING_PROBE], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert {"printing", "pos", "PIL"} <= loaded
    assert loaded.isdisjoint({"PySide6", "shiboken6", "ui", "sync", "httpx", "fastapi"})


SERVER_PROBE = """
import sys
import sync.server.app, sync.server.cli, sync.server.service, sync.protocol
print("\\n".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_the_server_never_loads_the_gui_or_printing():
    out = subprocess.run([sys.executable, "-c", SERVER_PROBE], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert {"sync", "fastapi"} <= loaded
    assert loaded.isdisjoint({"ui", "printing", "PySide6", "escpos", "reportlab"})

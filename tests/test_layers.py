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


# The GUI reads and writes through services only: no SQL, no tables, no HTTP on its own, and
# screens never reach into the print queue's internals. Imports inside functions count too.
UI_FORBIDDEN = ("sqlalchemy", "sqlite3", "pos.tables", "httpx", "requests", "urllib")
SCREEN_FORBIDDEN = ("printing.queue", "pos.print_jobs", "sync.client")
SERVICES = {"printer.py", "sync_service.py", "selftest.py", "app.py", "main.py", "bridge.py",
            "context.py", "errors.py"}  # the bridges to the layers below, and the start-up


def _imports_and_sql(path):
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    names, sql = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute) and node.attr in ("conn", "exec_driver_sql"):
            sql.append(node.lineno)
    return names, sql


def test_the_gui_has_no_sql_and_screens_use_the_services():
    problems = []
    for path in sorted((ROOT / "ui").glob("*.py")):
        names, sql = _imports_and_sql(path)
        forbidden = UI_FORBIDDEN + (() if path.name in SERVICES else SCREEN_FORBIDDEN)
        for name in names:
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                problems.append(f"{path.name} imports {name}")
        problems += [f"{path.name}:{line} uses a connection" for line in sql]
    assert problems == []


def test_the_layer_check_sees_imports_inside_functions(tmp_path):
    probe = tmp_path / "screen.py"
    probe.write_text("def f(uow):\n    from pos import tables as t\n    return uow.conn\n")
    names, sql = _imports_and_sql(probe)
    assert "pos.tables" in names and sql == [3]

"""`jangteo print test|receipt|preview` against a loopback printer."""

from __future__ import annotations

import os
import subprocess
import sys

from PIL import Image

from printing.decode import decode
from tests.conftest import ROOT
from tests.printing.conftest import wait_for


def jangteo(data, *args):
    return subprocess.run([sys.executable, "-m", "ui.main", "--data-dir", str(data), "--lang", "en",
                           *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]})


def test_print_commands(tmp_path, printer_factory):
    data = tmp_path / "d"
    assert jangteo(data, "demo", "--sales", "5", "--date", "2026-11-21").returncode == 0
    printer = printer_factory()
    out = jangteo(data, "print", "test", "--printer", printer.url, "--profile", "epson-tm-t20-kr")
    assert out.returncode == 0, out.stderr
    assert "Printed" in out.stdout and "Using" not in out.stdout
    wait_for(lambda: printer.jobs)
    lines = decode(printer.jobs[0]).text_lines()
    assert any("장터 시험 인쇄" in line for line in lines)
    assert any("가나다라마바사 김밥 수제비누" in line for line in lines)

    out = jangteo(data, "print", "receipt", "A01-20261121-0002", "--printer", printer.url,
                  "--profile", "generic-58-text")
    assert out.returncode == 0, out.stderr
    wait_for(lambda: len(printer.jobs) == 2)
    lines = decode(printer.jobs[1]).text_lines()
    assert any("A01-20261121-0002" in line for line in lines)
    assert any("사본" in line for line in lines)

    png = tmp_path / "r.png"
    out = jangteo(data, "print", "preview", "A01-20261121-0002", "--png", str(png),
                  "--profile", "generic-58")
    assert out.returncode == 0, out.stderr
    image = Image.open(png)
    assert image.width == 384 and image.height > 600

    out = jangteo(data, "print", "receipt", "A01-20261121-0002")
    assert out.returncode == 1 and "No printer is set up" in out.stderr
    out = jangteo(data, "print", "test", "--printer", "tcp://127.0.0.1:9")
    assert out.returncode == 1 and "off or not connected" in out.stderr


def test_a_printer_out_of_paper_or_stopped_is_a_sentence_not_a_hang(tmp_path, printer_factory):
    data = tmp_path / "d"
    assert jangteo(data, "demo", "--sales", "2", "--date", "2026-11-21").returncode == 0
    printer = printer_factory(state="paper_out")
    out = jangteo(data, "print", "receipt", "A01-20261121-0001", "--printer", printer.url,
                  "--profile", "epson-tm-t20-kr")
    assert out.returncode != 0 and "out of paper" in out.stderr
    assert "Traceback" not in out.stderr and printer.jobs == []
    stalled = printer_factory("stall")
    out = jangteo(data, "print", "receipt", "A01-20261121-0001", "--printer", stalled.url,
                  "--profile", "generic-80")
    assert out.returncode != 0 and "stopped responding" in out.stderr, out.stderr

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


def test_report_shift_is_last_current_or_a_number_and_says_which_there_are(tmp_path):
    """What the vendor typed right after `jangteo demo`: `report x --shift last` (and z), then
    a number that is not there, a word that is not a shift, and the same once it is closed."""
    data = tmp_path / "d"

    def ko(*args):
        out = jangteo(data, "--lang", "ko", *args)
        assert "Traceback" not in out.stderr
        return out

    out = ko("report", "x", "--shift", "last")
    assert out.returncode == 1 and "아직 교대가 없습니다" in out.stderr
    assert jangteo(data, "demo", "--sales", "5", "--date", "2026-11-21").returncode == 0
    for wanted in ("last", "current", "open", "1", "#1"):
        out = ko("report", "x", "--shift", wanted)
        assert out.returncode == 0, (wanted, out.stderr)
        assert "X 중간 보고서 #1" in out.stdout
    out = ko("report", "x", "--shift", "9")
    assert out.returncode == 1 and out.stderr.strip() == \
        "없는 교대 번호입니다: #9. 이 단말기의 교대: #1."
    out = ko("report", "x", "--shift", "어제")
    assert out.returncode == 1 and "'어제'" in out.stderr and "last" in out.stderr
    assert "#1" in out.stderr
    # a Z report is of a closed shift: without --shift the last closed one, and none is yet
    out = ko("report", "z")
    assert out.returncode == 1 and "아직 마감한 교대가 없습니다 (열린 교대: #1)" in out.stderr
    out = ko("report", "z", "--shift", "last")
    assert out.returncode == 1 and "교대 #1은 아직 마감되지 않았습니다" in out.stderr
    assert "찾을 수 없는" not in out.stderr

    expected = jangteo(data, "shift", "status").stdout.split("expected cash ₩")[1].split()[0]
    closed = jangteo(data, "shift", "close", "--counted", expected.replace(",", ""))
    assert closed.returncode == 0, closed.stderr
    assert jangteo(data, "shift", "open", "--float", "0").returncode == 0
    for wanted in (None, "last", "1"):
        out = ko("report", "z", *(["--shift", wanted] if wanted else []))
        if wanted == "last":  # the newest is shift #2, open
            assert out.returncode == 1 and "교대 #2은 아직 마감되지" in out.stderr
            continue
        assert out.returncode == 0, (wanted, out.stderr)
        assert out.stdout.splitlines()[0].split() == ["Z", "마감", "보고서", "#1"]
    out = jangteo(data, "report", "x", "--shift", "7")
    assert out.returncode == 1 and out.stderr.strip() == \
        "There is no shift #7. This till's shifts: #1, #2."
    out = jangteo(data, "report", "x", "--shift", "last")
    assert out.returncode == 0 and "#2" in out.stdout.splitlines()[0]

"""`jangteo selftest`, the check a packaged build runs on the machine it was built on."""

import subprocess
import sys

from tests.conftest import ROOT


def test_selftest_sells_prints_and_reports_on_a_temporary_folder(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    out = subprocess.run([sys.executable, "-m", "ui.main", "--lang", "en", "selftest", "--keep"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    steps = [ln for ln in lines if ln.startswith("  ")]
    assert len(steps) == 7 and all(ln.startswith("  ok") for ln in steps), out.stdout
    assert lines[-1].startswith("selftest passed (window ready")
    kept = next(ln for ln in lines if ln.startswith("/"))
    from pathlib import Path

    folder = Path(kept)
    assert (folder / "z-report.pdf").read_bytes().startswith(b"%PDF-")
    from pypdf import PdfReader

    sale = next(ln for ln in steps if "sale recorded" in ln).split()
    receipt_no, total = sale[-2], sale[-1]  # "... A01-20261122-0001 47,000"
    text = "".join(page.extract_text() for page in PdfReader(folder / "z-report.pdf").pages)
    assert total in text  # the Z report's net is the one sale's total
    assert receipt_no.startswith("A01-")
    assert (folder / "receipt.bin").stat().st_size > 10_000


def test_selftest_is_in_korean_by_default_on_a_korean_system(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "LANG": "ko_KR.UTF-8", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    out = subprocess.run([sys.executable, "-m", "ui.main", "selftest", "--startup-only"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "판매 화면" in out.stdout and out.stdout.strip().splitlines()[-1].startswith("자체 점검 통과")


def test_qt_standard_buttons_speak_the_tills_language(qtbot):
    from ui.app import application, use_language
    from ui.qt import QApplication, QMessageBox

    application()
    try:
        use_language("ko")
        box = QMessageBox(QMessageBox.Question, "장터", "교대를 열까요?",
                          QMessageBox.Yes | QMessageBox.No)
        qtbot.addWidget(box)
        assert box.button(QMessageBox.Yes).text().replace("&", "").startswith("예")
        use_language("en")
        assert QApplication.translate("QPlatformTheme", "&Yes") == "&Yes"
    finally:
        use_language("ko")

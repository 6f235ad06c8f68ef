"""The `jangteo` command as a vendor types it."""

import sqlite3
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

COMMANDS = [["demo"], ["catalog"], ["catalog", "import"], ["catalog", "export"], ["enterprise"],
            ["enterprise", "add"], ["enterprise", "list"], ["sales"], ["sales", "export"],
            ["check"], ["backup"], ["backup", "list"], ["restore"]]


def jangteo(*args, env_extra=None):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"],  # the test's own (conftest)
           **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "pos.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env)


def test_help_lists_every_command_in_both_languages():
    en = jangteo("--lang", "en", "--help")
    assert en.returncode == 0
    for name in ("demo", "catalog", "enterprise", "sales", "check", "--data-dir", "--version"):
        assert name in en.stdout
    ko = jangteo("--lang", "ko", "--help")
    assert "데모" in ko.stdout and "데이터 폴더" in ko.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command):
    out = jangteo("--lang", "en", *command, "--help")
    assert out.returncode == 0 and "usage: jangteo" in out.stdout


def test_version():
    out = jangteo("--version")
    assert out.returncode == 0 and out.stdout.startswith("jangteo 0.")


def test_no_command_says_a_screen_is_needed_and_touches_no_data(tmp_path):
    """Without a command there is nothing the command line can do: it says how it is used and
    exits 2 (it had loaded the demo into the folder and exited 0, as if the till had started)."""
    data = tmp_path / "first"
    first = jangteo("--data-dir", str(data), "--lang", "en")
    assert first.returncode == 2 and first.stdout == ""
    assert "needs a screen" in first.stderr and "usage: jangteo" in first.stderr
    assert not data.exists()
    ko = jangteo("--lang", "ko", env_extra={"JANGTEO_DATA_DIR": str(data)})
    assert ko.returncode == 2 and "화면(데스크톱)이 필요합니다" in ko.stderr and not data.exists()


def test_korean_is_the_default_on_a_korean_system(tmp_path):
    out = jangteo("--data-dir", str(tmp_path / "k"), "check", env_extra={"LANG": "ko_KR.UTF-8"})
    assert "이상 없음" in out.stdout
    out = jangteo("--data-dir", str(tmp_path / "k"), "check", env_extra={"LANG": "en_US.UTF-8"})
    assert "All good" in out.stdout


def test_check_reports_broken_invariants_with_a_non_zero_exit(tmp_path):
    data = tmp_path / "d"
    assert jangteo("--data-dir", str(data), "demo", "--sales", "30").returncode == 0
    con = sqlite3.connect(data / "jangteo.db")
    con.execute("UPDATE payments SET amount = amount + 1 WHERE rowid = 1")
    con.execute("DELETE FROM outbox WHERE seq = (SELECT seq FROM sales ORDER BY seq LIMIT 1 OFFSET 2)")
    con.commit()
    con.close()
    out = jangteo("--data-dir", str(data), "--lang", "en", "check")
    assert out.returncode == 1
    assert "[payments_total] A01-" in out.stderr
    assert "[seq_gapless]" in out.stderr and "[document_in_outbox]" in out.stderr


def test_enterprise_with_a_wrong_registration_number_is_refused_in_korean(tmp_path):
    out = jangteo("--data-dir", str(tmp_path / "e"), "--lang", "ko", "enterprise", "add",
                  "--name", "공방", "--bizno", "123-45-67890")
    assert out.returncode == 1 and "사업자등록번호가 올바르지 않습니다" in out.stderr


def test_argparse_own_words_follow_the_language(tmp_path):
    ko = jangteo("--lang", "ko", "--help")
    assert ko.stdout.startswith("사용법: jangteo") and "\n옵션:\n" in ko.stdout
    assert "이 도움말을 보이고 끝냅니다" in ko.stdout and "버전을 보이고 끝냅니다" in ko.stdout
    assert "usage:" not in ko.stdout and "options:" not in ko.stdout
    missing = jangteo("--lang", "ko", "--data-dir", str(tmp_path), "catalog", "import")
    assert missing.returncode == 2
    assert "jangteo catalog import: 오류: 다음 인자가 필요합니다: file" in missing.stderr
    en = jangteo("--lang", "en", "--data-dir", str(tmp_path), "catalog", "import")
    assert "error: the following arguments are required: file" in en.stderr


def test_closing_with_a_cash_difference_says_why_or_stays_open(tmp_path):
    d = ["--lang", "ko", "--data-dir", str(tmp_path / "d")]
    assert jangteo(*d, "shift", "open", "--float", "10000").returncode == 0
    short = jangteo(*d, "shift", "close", "--counted", "9000")
    assert short.returncode == 2 and "-1,000원" in short.stderr and "--reason" in short.stderr
    assert "교대 #1" in jangteo(*d, "shift", "status").stdout  # still open
    bad = jangteo(*d, "shift", "close", "--counted", "9000", "--reason", "x\x07y")
    assert bad.returncode != 0 and "인쇄할 수 없는" in bad.stdout + bad.stderr
    done = jangteo(*d, "shift", "close", "--counted", "9000", "--reason", "잔돈 착오")
    assert done.returncode == 0, done.stderr
    z = subprocess.run([sys.executable, "-m", "ui.main", *d, "report", "z", "--shift", "1"],
                       cwd=ROOT, capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                            "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]})
    assert "차액 사유: 잔돈 착오" in z.stdout, z.stderr

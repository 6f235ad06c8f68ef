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


def test_no_command_loads_the_demo_catalog_once_and_explains(tmp_path):
    data = tmp_path / "first"
    first = jangteo("--data-dir", str(data), "--lang", "en")
    assert first.returncode == 0, first.stderr
    assert "First start: loaded the demo catalog" in first.stdout
    assert "catalog" in first.stdout and "demo" in first.stdout
    second = jangteo("--lang", "ko", env_extra={"JANGTEO_DATA_DIR": str(data)})
    assert "처음 시작" not in second.stdout and "판매 중인 상품" in second.stdout


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

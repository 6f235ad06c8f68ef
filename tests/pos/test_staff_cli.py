"""Staff accounts and the audit log from the command line, as a manager sets them up."""

import os
import sqlite3
import subprocess
import sys

from tests.conftest import ROOT


def jangteo(*args, **env):
    run_env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
               "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"], **env}
    return subprocess.run([sys.executable, "-m", "ui.main", *args], cwd=ROOT,
                          capture_output=True, text=True, env=run_env, stdin=subprocess.DEVNULL)


def test_a_manager_sets_up_staff_and_every_action_is_signed_and_audited(tmp_path):
    d = ["--lang", "ko", "--data-dir", str(tmp_path / "d")]
    first = jangteo(*d, "staff", "add", "김매니저", JANGTEO_NEW_PIN="2468")
    assert first.returncode == 0, first.stderr
    assert "김매니저 (매니저)" in first.stdout and "staff accounts on" in first.stdout
    no_pin = jangteo(*d, "staff", "add", "이계산")  # no terminal, no variable: said, not hung
    assert no_pin.returncode == 1 and "JANGTEO_NEW_PIN" in no_pin.stderr
    refused = jangteo(*d, "staff", "add", "이계산", JANGTEO_NEW_PIN="1357")
    assert refused.returncode == 0  # accounts are still off: anyone may
    assert jangteo(*d, "staff", "accounts", "on").returncode == 0
    listed = jangteo(*d, "staff", "list").stdout
    assert "켜짐" in listed and "이계산\t계산원" in listed and "김매니저\t매니저" in listed

    nobody = jangteo(*d, "shift", "open", "--float", "10000")
    assert nobody.returncode == 1 and "로그인" in nobody.stderr
    wrong = jangteo(*d, "--staff", "이계산", "shift", "open", "--float", "10000",
                    JANGTEO_PIN="0000")
    assert wrong.returncode == 1 and "PIN이 맞지 않습니다" in wrong.stderr
    opened = jangteo(*d, "--staff", "이계산", "shift", "open", "--float", "10000",
                     JANGTEO_PIN="1357")
    assert opened.returncode == 0, opened.stderr
    out = jangteo(*d, "--staff", "이계산", "shift", "cash", "--out", "3000", "--reason", "봉투",
                  JANGTEO_PIN="1357")
    assert out.returncode == 1 and "매니저" in out.stderr and "--approver" in out.stderr
    approved = jangteo(*d, "--staff", "이계산", "--approver", "김매니저", "shift", "cash",
                       "--out", "3000", "--reason", "봉투", JANGTEO_PIN="1357",
                       JANGTEO_APPROVER_PIN="2468")
    assert approved.returncode == 0, approved.stderr
    not_manager = jangteo(*d, "--staff", "김매니저", "--approver", "이계산", "staff", "list",
                          JANGTEO_PIN="2468", JANGTEO_APPROVER_PIN="1357")
    assert not_manager.returncode == 0  # reading needs no approval: no PIN asked at all

    log = jangteo(*d, "audit").stdout
    assert "PIN 틀림" in log and "매니저 승인" in log and "현금 넣기·빼기" in log
    assert "승인한 매니저: 김매니저" in log and "직원: 이계산" in log
    assert "권한: 현금 넣기·빼기" in log and "금액: 3,000원" in log
    only = jangteo(*d, "audit", "--staff", "김매니저").stdout
    assert "이계산" not in only.replace("직원: 이계산", "")
    assert jangteo(*d, "check").returncode == 0

    db = sqlite3.connect(tmp_path / "d" / "jangteo.db")
    db.execute("UPDATE audit_log SET staff_name = '박누구' WHERE action = 'approval'")
    db.commit()
    db.close()
    check = jangteo(*d, "check")
    assert check.returncode == 1 and "감사 기록이 고쳐짐" in check.stderr


def test_with_accounts_on_catalog_stock_restore_and_enroll_need_their_person(tmp_path):
    """A stranger's attack: with accounts on, catalog import, enterprise add and stock moves
    had needed nobody and left no audit entry; restore and enroll too."""
    d = ["--lang", "ko", "--data-dir", str(tmp_path / "d")]
    assert jangteo(*d, "staff", "add", "김매니저", JANGTEO_NEW_PIN="2468").returncode == 0
    assert jangteo(*d, "staff", "add", "이계산", JANGTEO_NEW_PIN="1357").returncode == 0
    assert jangteo(*d, "enterprise", "add", "--name", "모두의공방").returncode == 0
    sheet = tmp_path / "p.csv"
    sheet.write_text("name,price,enterprise,sku\n비누,3000,모두의공방,S1\n", encoding="utf-8")
    assert jangteo(*d, "catalog", "import", str(sheet)).returncode == 0
    assert jangteo(*d, "staff", "accounts", "on").returncode == 0
    clerk = {"JANGTEO_PIN": "1357"}
    for command in (["enterprise", "add", "--name", "둘째공방"], ["catalog", "import", str(sheet)],
                    ["stock", "receive", "S1", "5"], ["restore"],
                    ["sync", "enroll", "http://127.0.0.1:9", "ABCD-EFGH-IJKL"]):
        nobody = jangteo(*d, *command)
        assert nobody.returncode != 0 and "로그인" in nobody.stderr, (command, nobody.stderr)
    for command in (["enterprise", "add", "--name", "둘째공방"], ["catalog", "import", str(sheet)],
                    ["restore"], ["sync", "enroll", "http://127.0.0.1:9", "ABCD-EFGH-IJKL"]):
        cashier = jangteo(*d, "--staff", "이계산", *command, **clerk)
        assert cashier.returncode == 1 and "매니저" in cashier.stderr, (command, cashier.stderr)
    received = jangteo(*d, "--staff", "이계산", "stock", "receive", "S1", "5", **clerk)
    assert received.returncode == 0, received.stderr  # a cashier's, by default
    approved = jangteo(*d, "--staff", "이계산", "--approver", "김매니저", "enterprise", "add",
                       "--name", "둘째공방", JANGTEO_APPROVER_PIN="2468", **clerk)
    assert approved.returncode == 0, approved.stderr
    log = jangteo(*d, "audit", "--staff", "이 계산").stdout  # as sign-in finds the name
    assert "재고 변경" in log and "상품·업체 편집" in log and "둘째공방" in log
    assert "p.csv" in jangteo(*d, "audit").stdout  # the import, by whoever made it
    for bad in (["--from", "garbage"], ["--from", "2026-13-45"], ["--to", "2026-12-3x"]):
        assert jangteo(*d, "audit", *bad).returncode == 2
    reversed_ = jangteo(*d, "audit", "--from", "2026-12-04", "--to", "2026-12-01")
    assert reversed_.returncode == 1 and "거꾸로" in reversed_.stderr
    assert "없습니다" in jangteo(*d, "audit", "--staff", "없는사람").stderr
    check = jangteo(*d, "check")
    assert check.returncode == 0 and "감사 기록" in check.stdout and "온전합니다" in check.stdout
    opened = jangteo(*d, "--staff", "김매니저", "shift", "open", "--float", "0",
                     JANGTEO_PIN="2468")
    assert opened.returncode == 0
    odd = jangteo(*d, "--staff", "김매니저", "shift", "close", "--count", "10000=1,7=1",
                  JANGTEO_PIN="2468")
    assert odd.returncode == 1 and "Traceback" not in odd.stderr and odd.stderr.strip()

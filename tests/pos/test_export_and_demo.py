"""`jangteo demo` then `jangteo sales export`: receipts whose totals and VAT follow KOREA.md."""

import os
import csv
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.conftest import ROOT


def jangteo(data, *args):
    return subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", str(data), *args],
                          cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"], "TZ": "Asia/Seoul"})


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo") / "data"
    out = jangteo(data, "--lang", "en", "demo", "--sales", "400", "--seed", "5",
                  "--date", "2026-11-21")
    assert out.returncode == 0, out.stderr
    assert "400 sales" in out.stdout
    return data


def read_csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to show Hangul"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def vat_of(taxable: int) -> int:
    """KOREA.md, computed here independently: supply = taxable / 1.1 half up; VAT = the rest."""
    supply = (Decimal(taxable) / Decimal("1.1")).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return taxable - int(supply)


def test_receipt_export_agrees_with_line_export_and_the_vat_rule(demo_day, tmp_path):
    assert jangteo(demo_day, "sales", "export", str(tmp_path / "r.csv"), "--by", "receipt").returncode == 0
    assert jangteo(demo_day, "sales", "export", str(tmp_path / "l.csv")).returncode == 0
    receipts = read_csv(tmp_path / "r.csv")
    lines = read_csv(tmp_path / "l.csv")
    assert list(receipts[0])[:8] == ["receipt_no", "kind", "sold_at", "total", "taxable_total",
                                     "supply_value", "vat", "exempt_total"]
    assert {"pay_cash", "pay_card", "pay_local_voucher", "change", "original_receipt_no"} <= set(receipts[0])
    assert list(lines[0])[:11] == ["receipt_no", "kind", "sold_at", "enterprise", "product",
                                   "barcode", "quantity", "unit_price", "discount", "amount",
                                   "tax_class"]
    enterprises = {}
    for row in jangteo(demo_day, "enterprise", "list").stdout.splitlines():
        name, _, status, *_ = row.split("\t")
        enterprises[name] = status
    by_receipt = defaultdict(list)
    for ln in lines:
        by_receipt[ln["receipt_no"]].append(ln)
    kinds = defaultdict(int)
    for r in receipts:
        kinds[r["kind"]] += 1
        total = int(r["total"])
        rl = by_receipt[r["receipt_no"]]
        assert sum(int(ln["amount"]) for ln in rl) == total
        for ln in rl:
            assert int(ln["quantity"]) * int(ln["unit_price"]) - int(ln["discount"]) == int(ln["amount"])
        pays = sum(int(v) for k, v in r.items() if k.startswith("pay_"))
        assert pays - int(r["change"]) == total
        # VAT once per enterprise part of the receipt, taxable lines of general taxpayers only
        vat = 0
        taxable_total = 0
        parts = defaultdict(int)
        for ln in rl:
            status = enterprises[ln["enterprise"]]
            if ln["tax_class"] == "taxable" and status != "exempt":
                taxable_total += int(ln["amount"])
                if status == "general":
                    parts[ln["enterprise"]] += int(ln["amount"])
        vat = sum(-vat_of(-v) if v < 0 else vat_of(v) for v in parts.values())
        assert int(r["taxable_total"]) == taxable_total
        assert int(r["vat"]) == vat, r["receipt_no"]
        assert int(r["supply_value"]) + vat == taxable_total
        assert int(r["taxable_total"]) + int(r["exempt_total"]) == total
        sold_at = datetime.fromisoformat(r["sold_at"])
        assert sold_at.utcoffset() is not None
        if r["kind"] == "sale":
            assert total > 0 and not r["original_receipt_no"]
        else:
            assert total < 0 and r["original_receipt_no"]
            assert all(int(ln["quantity"]) < 0 for ln in rl)
    assert kinds["sale"] == 400 and kinds["void"] > 0 and kinds["refund"] > 0
    paid_by = {k for r in receipts for k, v in r.items() if k.startswith("pay_") and int(v)}
    assert {"pay_cash", "pay_card", "pay_qr", "pay_transfer", "pay_local_voucher"} <= paid_by
    assert any(sum(1 for k, v in r.items() if k.startswith("pay_") and int(v)) > 1 for r in receipts)


def test_export_by_date_range(demo_day, tmp_path):
    out = jangteo(demo_day, "sales", "export", str(tmp_path / "none.csv"), "--from", "2026-11-22")
    assert out.returncode == 0
    assert read_csv(tmp_path / "none.csv") == []
    jangteo(demo_day, "sales", "export", str(tmp_path / "day.csv"), "--from", "2026-11-21",
            "--to", "2026-11-21", "--by", "receipt")
    assert len(read_csv(tmp_path / "day.csv")) > 400


def test_demo_is_deterministic_for_a_seed_and_has_a_real_joint_stall(demo_day, tmp_path):
    other = tmp_path / "again"
    assert jangteo(other, "demo", "--sales", "400", "--seed", "5", "--date", "2026-11-21").returncode == 0
    for data, name in ((demo_day, "a.csv"), (other, "b.csv")):
        jangteo(data, "sales", "export", str(tmp_path / name), "--by", "receipt")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    ents = jangteo(demo_day, "enterprise", "list").stdout.splitlines()
    assert len(ents) >= 5
    jangteo(demo_day, "catalog", "export", str(tmp_path / "cat.csv"))
    products = read_csv(tmp_path / "cat.csv")
    assert len(products) >= 38
    assert any(p["tax"] == "exempt" for p in products)
    assert sum(1 for p in products if p["barcode"]) >= 10
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in p["name"]) for p in products)


def test_demo_refuses_a_directory_with_sales(demo_day):
    out = jangteo(demo_day, "--lang", "en", "demo")
    assert out.returncode == 1 and "already has sales" in out.stderr


def test_check_passes_on_the_demo_day(demo_day):
    out = jangteo(demo_day, "--lang", "en", "check")
    assert out.returncode == 0 and "All good" in out.stdout

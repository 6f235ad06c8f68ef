"""Catalog import and export as a vendor's spreadsheet produces them."""

import os
import csv
import subprocess
import sys

import pytest
from openpyxl import Workbook

from pos import services as s
from pos.catalog_io import ImportFileError, export_catalog, import_catalog
from tests.conftest import ROOT

HEADER = "상품코드,바코드,상품명,가격,과세구분,업체,분류,재고\n"
GOOD = (
    "K-001,8801234567893,천연 수제비누,\"6,000\",과세,모두의공방,공예,\n"
    "K-002,,무농약 현미 4kg,11000,면세,모두의공방,농산물,20\n"
    "K-003,8809876543210|8809876543227,자수 손수건,13000원,과세,손끝공방,액세서리,\n"
    "K-004,,유정란 10구,7000,면세,220-81-62517,농산물,\n"
)


def write(path, text, encoding):
    path.write_bytes(text.encode(encoding))
    return path


def do_import(store, path, **kw):
    with store.unit_of_work() as uow:
        result = import_catalog(uow, path, **kw)
        if result.applied:
            uow.commit()
    return result


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_csv_in_every_encoding_korean_excel_writes(store, stall, tmp_path, encoding):
    path = write(tmp_path / f"catalog-{encoding}.csv", HEADER + GOOD, encoding)
    result = do_import(store, path)
    assert result.problems == []
    assert (result.added, result.updated) == (4, 0)
    with store.unit_of_work(write=False) as uow:
        by_sku = {p["sku"]: p for p in s.list_products(uow)}
    soap = by_sku["K-001"]
    assert (soap["name"], soap["price"], soap["tax_class"], soap["enterprise_name"],
            soap["category_name"], soap["barcodes"]) == (
        "천연 수제비누", 6000, "taxable", "모두의공방", "공예", ["8801234567893"])
    assert by_sku["K-002"]["tax_class"] == "exempt" and by_sku["K-002"]["stock"] == 20
    assert by_sku["K-003"]["barcodes"] == ["8809876543210", "8809876543227"]
    assert by_sku["K-004"]["enterprise_name"] == "모두의공방"  # found by registration number


def test_xlsx_with_english_headers(store, stall, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["name", "price", "enterprise", "barcode", "tax"])
    ws.append(["향초 (대)", 15000, "모두의공방", 8801111111111, "taxable"])
    ws.append(["햇감자 1kg", 4000.0, "늘푸른농장", None, "exempt"])
    path = tmp_path / "catalog.xlsx"
    wb.save(path)
    result = do_import(store, path)
    assert result.problems == [] and result.added == 2
    with store.unit_of_work(write=False) as uow:
        p = s.product_by_barcode(uow, barcode="8801111111111")
    assert (p["name"], p["price"]) == ("향초 (대)", 15000)


def test_a_product_of_the_same_enterprise_and_name_is_updated_not_added(store, stall, tmp_path):
    text = HEADER + ",,무농약 쌀 2kg,11500,면세,모두의공방,농산물,\n"
    result = do_import(store, write(tmp_path / "same.csv", text, "utf-8"))
    assert (result.added, result.updated) == (0, 1)
    with store.unit_of_work(write=False) as uow:
        assert s.get_product(uow, product_id=stall.rice)["price"] == 11500


def test_reimport_updates_by_sku_and_barcode_instead_of_duplicating(store, stall, tmp_path):
    path = write(tmp_path / "c.csv", HEADER + GOOD, "utf-8")
    do_import(store, path)
    changed = GOOD.replace('"6,000"', "6500").replace("K-003,", ",")  # brooch: barcode only
    result = do_import(store, write(tmp_path / "c2.csv", HEADER + changed, "utf-8"))
    assert (result.added, result.updated) == (0, 4)
    with store.unit_of_work(write=False) as uow:
        products = s.list_products(uow)
        assert len(products) == 5 + 4
        soap = next(p for p in products if p["sku"] == "K-001")
        assert (soap["price"], soap["version"]) == (6500, 2)


BROKEN = {
    "empty name": ("K-9,,,3000,과세,모두의공방,,", "name", "값이 비어 있습니다", "the value is empty"),
    "negative price": ("K-9,,비누,-3000,과세,모두의공방,,", "price", "음수", "negative"),
    "decimal price": ("K-9,,비누,1500.5,과세,모두의공방,,", "price", "소수점", "decimals"),
    "unknown enterprise": ("K-9,,비누,3000,과세,없는상회,,", "enterprise", "등록되지 않은 업체",
                           "unknown enterprise"),
    "duplicate barcode": ("K-9,8801234567893,비누,3000,과세,모두의공방,,", "barcode",
                          "2행과 겹칩니다", "also on row 2"),
    "wrong column count": ("K-9,,비누,3000", "*", "열 개수", "number of columns"),
    "bad tax class": ("K-9,,비누,3000,반반,모두의공방,,", "tax", "과세/면세", "taxable or exempt"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_row_is_reported_and_nothing_is_imported(store, stall, tmp_path, case):
    row, column, ko, en = BROKEN[case]
    text = HEADER + GOOD + row + "\n"
    result = do_import(store, write(tmp_path / "bad.csv", text, "cp949"))
    assert not result.applied
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert (problem.row, problem.column) == (6, column)
    assert ko in problem.text("ko") and "6행" in problem.text("ko")
    if column != "*":  # the column as a header in the reader's language, not the code's name
        assert f"'{column}'" not in problem.text("ko") and f"'{column}'" in problem.text("en")
    assert en in problem.text("en") and "Row 6" in problem.text("en")
    assert "아무것도 가져오지 않았습니다" in result.summary("ko")
    with store.unit_of_work(write=False) as uow:
        assert len(s.list_products(uow)) == 5


def test_skip_invalid_imports_the_rest_and_says_what_it_skipped(store, stall, tmp_path):
    text = HEADER + GOOD + BROKEN["empty name"][0] + "\n" + BROKEN["negative price"][0] + "\n"
    result = do_import(store, write(tmp_path / "bad.csv", text, "utf-8"), skip_invalid=True)
    assert result.applied and result.added == 4
    assert [p.row for p in result.problems] == [6, 7]
    assert "2 invalid rows were skipped" in result.summary("en")


def test_missing_required_columns_and_unreadable_files(store, stall, tmp_path):
    result = do_import(store, write(tmp_path / "h.csv", "이름없음,값\n1,2\n", "utf-8"))
    assert {p.column for p in result.problems} == {"name", "price"}
    with store.unit_of_work() as uow:
        with pytest.raises(ImportFileError) as e:
            import_catalog(uow, write(tmp_path / "x.pdf", "x", "utf-8"))
        assert e.value.code == "file_format"
        with pytest.raises(ImportFileError) as e:
            import_catalog(uow, tmp_path / "missing.csv")
        assert e.value.code == "file_unreadable"
        broken_xlsx = write(tmp_path / "b.xlsx", "not a zip", "utf-8")
        with pytest.raises(ImportFileError) as e:
            import_catalog(uow, broken_xlsx)
        assert e.value.code == "file_unreadable"
        with pytest.raises(ImportFileError) as e:
            import_catalog(uow, write(tmp_path / "big.csv", HEADER + GOOD, "utf-8"), max_bytes=100)
        assert e.value.code == "file_too_large"


@pytest.mark.slow
def test_a_10_mb_file_with_one_broken_row_near_the_end(store, stall, tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "barcode", "name", "price", "tax", "enterprise", "category"])
        n = 0
        while fh.tell() < 10 * 1024 * 1024:
            n += 1
            w.writerow([f"S{n:07d}", f"881{n:010d}", f"대용량 상품 {n}번 천연 재료 수제품", 1000 + n % 50 * 100,
                        "과세" if n % 3 else "면세", "모두의공방", f"분류{n % 20}"])
        w.writerow(["S-bad", "", "깨진 행", "12.34", "과세", "모두의공방", ""])
    assert path.stat().st_size > 10 * 1024 * 1024
    result = do_import(store, path)
    assert not result.applied
    assert [(p.row, p.column, p.code) for p in result.problems] == [(n + 2, "price", "value_decimal")]
    path.write_bytes(path.read_bytes().replace(b"12.34", b"1234"))
    result = do_import(store, path)
    assert result.applied and result.added == n + 1


def test_export_then_import_round_trips(store, stall, tmp_path):
    for name in ("out.csv", "out.xlsx"):
        with store.unit_of_work(write=False) as uow:
            assert export_catalog(uow, tmp_path / name) == 5
        result = do_import(store, tmp_path / name)
        assert result.problems == [] and (result.added, result.updated) == (0, 5)
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_cli_import_reports_in_the_chosen_language(tmp_path):
    data = tmp_path / "d"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "JANGTEO_STATE_DIR": os.environ["JANGTEO_STATE_DIR"]}
    run = lambda *a: subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", str(data), *a],  # noqa: E731
                                    cwd=ROOT, capture_output=True, text=True, env=env)
    assert run("enterprise", "add", "--name", "모두의공방", "--bizno", "2208162517").returncode == 0
    bad = write(tmp_path / "bad.csv", HEADER + "K-1,,비누,-5,과세,모두의공방,,\n", "cp949")
    out = run("--lang", "en", "catalog", "import", str(bad))
    assert out.returncode == 1
    assert "Row 2, column 'price'" in out.stderr and "nothing was imported" in out.stderr
    out = run("--lang", "ko", "catalog", "import", str(bad))
    assert "2행 '가격' 열" in out.stderr and "'price'" not in out.stderr
    good = write(tmp_path / "good.csv", HEADER + "K-1,,비누,3000,과세,모두의공방,,\n", "utf-8")
    out = run("--lang", "en", "catalog", "import", str(good))
    assert out.returncode == 0 and "Products added: 1" in out.stdout


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_column_is_named_by_a_header_the_import_accepts(lang):
    from pos.catalog_io import COLUMN_LABELS, COLUMNS
    from pos.i18n import tr

    for column, key in COLUMN_LABELS.items():
        label = tr(key, lang).replace(" ", "").lower()
        assert label in COLUMNS[column], (column, label)

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
    # a name the till does not know is a new enterprise; a registration number has no name
    "unknown enterprise": ("K-9,,비누,3000,과세,123-45-67891,,", "enterprise", "등록되지 않은 업체",
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
    fresh = write(tmp_path / "fresh.csv", "name,price,enterprise,tax_status\n비누,3000,새공방,간이\n",
                  "utf-8")
    out = run("--lang", "en", "catalog", "import", str(fresh))
    assert out.returncode == 0 and "New enterprise added (1): 새공방" in out.stdout


# -- the enterprises of the rows: a fresh till, the organizer's sheet ------------------------

from pos import bizno as bizno_rules  # noqa: E402
from pos.catalog_io import COLUMN_LABELS, COLUMNS  # noqa: E402
from pos.demo import load_demo_catalog  # noqa: E402
from pos.i18n import tr  # noqa: E402
from pos.store import Store  # noqa: E402

ORG_HEADER = "상품명,가격,업체,사업자등록번호,과세 유형,대표자,수수료\n"


def catalog_of(store):
    """Enterprises and products as a person compares two tills: by name, not by id."""
    with store.unit_of_work(write=False) as uow:
        enterprises = {e["name"]: (e["bizno"], e["tax_status"], e["representative"],
                                   e["commission_bp"]) for e in s.list_enterprises(uow)}
        products = sorted((p["enterprise_name"], p["name"], p["price"], p["tax_class"],
                           p["sku"], tuple(sorted(p["barcodes"])), p["category_name"])
                          for p in s.list_products(uow))
    return enterprises, products


def counts(store):
    with store.unit_of_work(write=False) as uow:
        return len(s.list_enterprises(uow)), len(s.list_products(uow))


@pytest.fixture
def fresh(tmp_path, clock):
    other = Store(tmp_path / "fresh", clock=clock)
    yield other
    other.close()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_fresh_till_imports_the_export_of_another(store, fresh, tmp_path, suffix):
    assert load_demo_catalog(store) > 0
    path = tmp_path / f"catalog{suffix}"
    with store.unit_of_work(write=False) as uow:
        export_catalog(uow, path)
    result = do_import(fresh, path)
    assert result.applied and result.problems == [] and result.notes == []
    source = catalog_of(store)
    assert catalog_of(fresh) == source
    assert sorted(result.created) == sorted(source[0])
    assert all(bizno for bizno, *_ in source[0].values())  # the demo has them: they came over
    summary = result.summary("ko")
    assert f"새로 등록한 업체 {len(source[0])}곳" in summary and "꿈드림공예협동조합" in summary
    # and the fresh till's own export imports back into it without a change
    with fresh.unit_of_work(write=False) as uow:
        export_catalog(uow, tmp_path / f"again{suffix}")
    again = do_import(fresh, tmp_path / f"again{suffix}")
    assert again.applied and again.created == [] and again.notes == [] and again.added == 0
    assert catalog_of(fresh) == source


def organizer_sheet(n=20):
    lines = []
    for k in range(1, n + 1):
        number = bizno_rules.with_check_digit(f"{300 + k:03d}81{k:04d}")
        status = ("일반과세자", "간이", "exempt")[k % 3]
        for j in range(1, 3):
            # the organizer fills the enterprise in on its first row only, now and then
            filled = j == 1 or k % 2
            lines.append(f"상품 {k}-{j},{1000 * j},공예조합 {k}호,"
                         f"{number if filled else ''},{status if filled else ''},"
                         f"대표{k},{'12.5' if k == 7 else ''}")
    return ORG_HEADER + "\n".join(lines) + "\n"


def test_the_organizers_sheet_of_20_enterprises_imports(fresh, tmp_path):
    result = do_import(fresh, write(tmp_path / "org.csv", organizer_sheet(), "cp949"))
    assert result.applied and result.problems == [], result.summary("en")
    assert result.added == 40 and len(result.created) == 20
    assert result.created[:2] == ["공예조합 1호", "공예조합 2호"]  # in the file's order
    enterprises, products = catalog_of(fresh)
    assert len(enterprises) == 20 and len(products) == 40
    assert enterprises["공예조합 1호"][1:3] == ("simplified", "대표1")
    assert enterprises["공예조합 3호"][1] == "general"
    assert enterprises["공예조합 2호"][1] == "exempt"
    assert enterprises["공예조합 7호"][3] == 1250
    assert bizno_rules.is_valid(enterprises["공예조합 4호"][0])
    assert "New enterprises added (20)" in result.summary("en")


def test_one_bad_row_imports_nothing_not_even_the_enterprises(fresh, tmp_path):
    text = organizer_sheet().replace("상품 20-2,2000", "상품 20-2,-5")
    result = do_import(fresh, write(tmp_path / "org.csv", text, "utf-8"))
    assert not result.applied and result.created == []
    assert [(p.row, p.column) for p in result.problems] == [(41, "price")]
    assert counts(fresh) == (0, 0)


def test_a_missing_tax_type_is_general_and_a_missing_bizno_none(fresh, tmp_path):
    text = "상품명,가격,업체\n비누,3000,새공방\n"
    result = do_import(fresh, write(tmp_path / "min.csv", text, "utf-8"))
    assert result.applied and result.created == ["새공방"]
    enterprises, _ = catalog_of(fresh)
    assert enterprises["새공방"] == (None, "general", "", 0)


def test_rows_of_one_new_enterprise_that_disagree_are_refused(fresh, tmp_path):
    a, b = bizno_rules.with_check_digit("301810001"), bizno_rules.with_check_digit("302810002")
    text = (ORG_HEADER + f"비누,3000,새공방,{a},일반,,\n" + "향초,5000,다른공방,,,,\n"
            + f"수세미,2000,새공방,{b},일반,,\n" + "행주,2000,새공방,,간이,,\n")
    result = do_import(fresh, write(tmp_path / "conflict.csv", text, "utf-8"))
    assert not result.applied
    assert [(p.row, p.column) for p in result.problems] == [(4, "bizno"), (5, "tax_status")]
    ko, en = result.problems[0].text("ko"), result.problems[0].text("en")
    assert "4행 '사업자등록번호' 열" in ko and "2행" in ko and a in ko and b in ko
    assert "Row 4, column 'bizno'" in en and "row 2" in en
    assert "2행" in result.problems[1].text("ko")
    assert counts(fresh) == (0, 0)


def test_an_enterprise_the_till_knows_keeps_its_data_and_the_report_says_so(store, stall,
                                                                             tmp_path):
    other = bizno_rules.with_check_digit("301810001")
    text = (ORG_HEADER + f"비누,3000,모두의공방,{other},간이,,\n"
            + "행주,2000,모두의공방,220-81-62517,일반,,10\n")  # what the till has: no note
    result = do_import(store, write(tmp_path / "known.csv", text, "utf-8"))
    assert result.applied and result.created == []
    assert [(n.row, n.column) for n in result.notes] == [(2, "bizno"), (2, "tax_status")]
    with store.unit_of_work(write=False) as uow:
        e = s.find_enterprise(uow, ref="모두의공방")
    assert (e["bizno"], e["tax_status"]) == ("220-81-62517", "general")
    ko = result.summary("ko")
    assert "'모두의공방'" in ko and other in ko and "220-81-62517" in ko and "'bizno'" not in ko


LONG = "가" * 10_000
HOSTILE = {
    "10 KB enterprise name": (f"비누,3000,{LONG},,,,", "enterprise", "text_too_long"),
    "NUL in a name": ("비누\x00,3000,새공방,,,,", "name", "text_control"),
    "NUL in an enterprise name": ("비누,3000,새\x00공방,,,,", "enterprise", "text_control"),
    "bizno with letters": ("비누,3000,새공방,22O-81-62517,,,", "bizno", "value_bizno_format"),
    "bizno check digit": ("비누,3000,새공방,220-81-62518,,,", "bizno", "value_bizno_check"),
    "tax type foo": ("비누,3000,새공방,,foo,,", "tax_status", "value_tax_status"),
    "commission over 100": ("비누,3000,새공방,,,,150", "commission", "value_commission"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_enterprise_cells_are_row_errors_and_nothing_is_written(fresh, tmp_path, case):
    row, column, code = HOSTILE[case]
    text = ORG_HEADER + "행주,2000,좋은공방,,,,\n" + row + "\n"
    result = do_import(fresh, write(tmp_path / "hostile.csv", text, "utf-8"))
    assert not result.applied and result.created == []
    assert [(p.row, p.column, p.code) for p in result.problems] == [(3, column, code)]
    ko = result.problems[0].text("ko")
    assert ko.startswith(f"3행 '{tr(COLUMN_LABELS[column], 'ko')}' 열") and f"'{column}'" not in ko
    assert len(ko) < 1000  # a 10 KB cell is not pasted back whole
    assert counts(fresh) == (0, 0)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_column_is_named_by_a_header_the_import_accepts(lang):
    for column, key in COLUMN_LABELS.items():
        label = tr(key, lang).replace(" ", "").lower()
        assert label in COLUMNS[column], (column, label)


def test_a_name_that_looks_like_a_formula_is_exported_as_text_and_comes_back(tmp_path):
    """A product named `=cmd|'/c calc'!A1` went out as a live formula in the export a vendor
    opens in Excel: it is text in the XLSX and quoted in the CSV, and imports back as named."""
    import csv as csvmod

    from openpyxl import load_workbook

    from pos import services as svc
    from pos.catalog_io import export_catalog, import_catalog
    from pos.store import Store

    names = ["=cmd|'/c calc'!A1", "+SUM(1)", "-특가-", "@home"]
    with Store(tmp_path / "a") as a:
        with a.unit_of_work() as uow:
            e = svc.add_enterprise(uow, name="모두의공방")
            for k, name in enumerate(names):
                svc.add_product(uow, name=name, price=1000 + k, enterprise_id=e)
            uow.commit()
        with a.unit_of_work(write=False) as uow:
            export_catalog(uow, tmp_path / "c.xlsx")
            export_catalog(uow, tmp_path / "c.csv")
    ws = load_workbook(tmp_path / "c.xlsx").active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value in names]
    assert len(cells) == len(names) and all(c.data_type == "s" for c in cells)
    rows = list(csvmod.reader((tmp_path / "c.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    for source in ("c.xlsx", "c.csv"):
        with Store(tmp_path / f"b-{source}") as b:
            with b.unit_of_work() as uow:
                result = import_catalog(uow, tmp_path / source)
                uow.commit()
            assert result.applied and not result.problems, result.summary("ko")
            with b.unit_of_work(write=False) as uow:
                assert sorted(p["name"] for p in svc.list_products(uow)) == sorted(names)

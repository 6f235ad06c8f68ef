"""Text that goes onto paper and to other tills is cleaned or refused at every way in: the
catalog's services, the spreadsheet import, and what the server sends (a newline in a name had
stopped the print queue; a NUL printed as nothing; a right-to-left override turns text round)."""

from __future__ import annotations

import pytest

from pos import services as s
from pos.catalog_io import import_catalog
from pos.domain import DomainError, clean_text
from pos.i18n import error_text


@pytest.mark.parametrize("raw, kept", [
    ("유기농\n현미  누룽지", "유기농 현미 누룽지"), ("\t수제비누 ", "수제비누"),
    ("a\r\nb\u2028c", "a b c"), ("ok\u00a0name", "ok\u00a0name"), ("☕ 드립백 ①", "☕ 드립백 ①"),
])
def test_line_breaks_become_spaces(raw, kept):
    assert clean_text(raw) == kept


@pytest.mark.parametrize("raw", ["a\x00b", "a\x1bb", "a\u202eb", "a\u2066b", "a\x7fb",
                                 "a\x9bb"])
def test_control_and_direction_characters_are_refused_with_a_sentence(raw):
    with pytest.raises(DomainError) as e:
        clean_text(raw)
    assert e.value.code == "text_control"
    text = error_text(e.value, "en")
    assert "control character" in text and "\ufffd" in text
    assert not any(ch in text for ch in "\x00\x1b\u202e\u2066\x7f\x9b")  # not echoed
    assert "제어 문자" in error_text(e.value, "ko")


def test_the_catalog_refuses_what_cannot_print_and_keeps_what_can(store):
    with store.unit_of_work() as uow:
        eid = s.add_enterprise(uow, name="  햇살\n마을  ", address="서울\n중구")
        assert s.find_enterprise(uow, ref="햇살 마을")["address"] == "서울 중구"
        pid = s.add_product(uow, name="누룽지\n2봉", price=5000, enterprise_id=eid)
        assert s.get_product(uow, product_id=pid)["name"] == "누룽지 2봉"
        for bad in ("x" * 101, "a\x00b"):
            with pytest.raises(DomainError):
                s.add_product(uow, name=bad, price=1000, enterprise_id=eid)
            with pytest.raises(DomainError):
                s.update_product(uow, product_id=pid, name=bad)
            with pytest.raises(DomainError):
                s.add_enterprise(uow, name=bad)
        with pytest.raises(DomainError):
            s.add_product(uow, name="ok", price=1000, enterprise_id=eid, sku="S\x00")
        uow.commit()


def test_an_import_reports_the_row_and_imports_nothing(store, tmp_path):
    with store.unit_of_work() as uow:
        s.add_enterprise(uow, name="공방")
        uow.commit()
    path = tmp_path / "products.csv"
    path.write_text('name,price,enterprise\n"줄\n바꿈",1000,공방\n"널\x00문자",2000,공방\n'
                    + "긴이름" * 40 + ",3000,공방\n", encoding="utf-8")
    with store.unit_of_work() as uow:
        result = import_catalog(uow, path)
    assert not result.applied
    assert sorted(p.code for p in result.problems) == ["text_control", "text_too_long"]
    assert all(p.column == "name" for p in result.problems)  # a line break in a cell is a space
    assert "control character" in result.summary("en")


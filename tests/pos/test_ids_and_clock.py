from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from pos.clock import Hlc, receive, tick
from pos.ids import parse_receipt_no, receipt_no, uuid7

UTC = timezone.utc


def test_uuid7_has_version_variant_and_time():
    when = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
    u = uuid7(when)
    assert u.version == 7
    assert u.variant == "specified in RFC 4122"
    assert u.int >> 80 == int(when.timestamp() * 1000)


@given(st.lists(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
                min_size=2, max_size=20))
def test_uuid7_sorts_by_time(times):
    times = sorted(t.replace(tzinfo=UTC) for t in times)
    ids = [uuid7(t) for t in times]
    for a, b, ta, tb in zip(ids, ids[1:], times, times[1:]):
        if int(ta.timestamp() * 1000) < int(tb.timestamp() * 1000):
            assert str(a) < str(b)


def test_receipt_number_format_and_parse():
    assert receipt_no("A01", date(2026, 11, 22), 42) == "A01-20261122-0042"
    assert parse_receipt_no("a01-20261122-0042") == ("A01", date(2026, 11, 22), 42)
    assert receipt_no("B2", date(2026, 1, 2), 12345) == "B2-20260102-12345"
    with pytest.raises(ValueError):
        receipt_no("a01", date(2026, 1, 1), 1)
    with pytest.raises(ValueError):
        receipt_no("A01", date(2026, 1, 1), 0)
    with pytest.raises(ValueError):
        parse_receipt_no("20261122-0042")


@given(st.from_regex(r"[A-Z][A-Z0-9]{1,5}", fullmatch=True), st.dates(), st.integers(1, 99999))
def test_receipt_numbers_round_trip(code, day, n):
    assert parse_receipt_no(receipt_no(code, day, n)) == (code, day, n)


@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=50))
def test_hlc_never_goes_backwards_even_when_the_wall_clock_does(jumps_ms):
    wall = datetime(2026, 11, 22, tzinfo=UTC)
    last = None
    stamps = []
    for j in jumps_ms:
        wall += timedelta(milliseconds=j)
        last = tick(last, wall, "A01")
        stamps.append(last)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert [str(s) for s in stamps] == sorted(str(s) for s in stamps)
    assert Hlc.parse(str(stamps[-1])) == stamps[-1]


def test_receive_moves_past_a_remote_stamp_from_the_future():
    wall = datetime(2026, 11, 22, tzinfo=UTC)
    remote = Hlc(int(wall.timestamp() * 1000) + 60_000, 3, "SRV")
    mine = receive(tick(None, wall, "A01"), remote, wall, "A01")
    assert mine > remote
    assert tick(mine, wall, "A01") > mine


@pytest.mark.parametrize("typed", [
    "A01-20261121-0001", "a01-202611210001", "A01202611210001", "A01 - 20261121 - 0001",
    "A01 20261121 0001", "A01\uff0d20261121\uff0d0001", " a01-20261121-0001\t"])
def test_a_receipt_number_is_read_however_it_was_typed(typed):
    """Dashes, spaces, full-width dashes (a Korean input method's), or none at all."""
    from pos.ids import canonical_receipt_no

    assert canonical_receipt_no(typed) == "A01-20261121-0001"


@pytest.mark.parametrize("typed", ["A01-20261321-0001", "A0120261321", "x", "", "\x00",
                                   "A01-20261121-0001\x00", "A" * 10000])
def test_what_is_not_a_receipt_number_is_refused(typed):
    from pos.ids import canonical_receipt_no

    with pytest.raises(ValueError):
        canonical_receipt_no(typed)

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from pos import bizno
from pos.money import MAX_WON, AmountError, format_won, parse_won
from pos.rounding import cumulative_share, half_up, percent_of, split_vat, spread


def test_format_won_in_both_languages():
    assert format_won(3000) == "3,000원"
    assert format_won(1234567, "en") == "₩1,234,567"
    assert format_won(-2700) == "-2,700원"
    assert format_won(0, "en") == "₩0"


def test_format_won_refuses_floats():
    with pytest.raises(TypeError):
        format_won(3000.0)


@pytest.mark.parametrize("text,won", [("3000", 3000), ("3,000", 3000), ("3,000원", 3000),
                                      ("₩3,000", 3000), ("￦3000", 3000), (" 1500.0 ", 1500),
                                      (1500.0, 1500), (0, 0)])
def test_parse_won_accepts_what_vendors_type(text, won):
    assert parse_won(text) == won


@pytest.mark.parametrize("text,code", [("1500.5", "decimal"), (1500.5, "decimal"),
                                       ("-100", "negative"), ("", "empty"), ("삼천원", "not_a_number"),
                                       ("3,00", "not_a_number"), ("1e3", "not_a_number")])
def test_parse_won_says_why_it_refuses(text, code):
    with pytest.raises(AmountError) as e:
        parse_won(text)
    assert e.value.code == code


@given(st.integers(min_value=-MAX_WON, max_value=MAX_WON))
def test_format_then_parse_is_identity(won):
    assert parse_won(format_won(won), allow_negative=True) == won
    assert parse_won(format_won(won, "en"), allow_negative=True) == won


@pytest.mark.parametrize("text", [str(MAX_WON + 1), "9223372036854775807", "9" * 5000,
                                  f"-{MAX_WON + 1:,}원"])
def test_an_amount_past_a_billion_won_is_refused(text):
    with pytest.raises(AmountError) as e:
        parse_won(text, allow_negative=True)
    assert e.value.code == "too_large"


@pytest.mark.parametrize("total,supply,vat", [(3000, 2727, 273), (1000, 909, 91), (0, 0, 0),
                                              (11, 10, 1), (5, 5, 0), (6, 5, 1), (-3000, -2727, -273)])
def test_vat_split_examples_from_the_rules(total, supply, vat):
    s = split_vat(total)
    assert (s.supply_value, s.vat) == (supply, vat)


@given(st.integers(min_value=-10**10, max_value=10**10))
def test_vat_split_adds_up_and_is_close_to_a_tenth_of_supply(total):
    s = split_vat(total)
    assert s.supply_value + s.vat == total
    # supply is total/1.1 rounded half up: within half a won of the exact value
    assert abs(Decimal(s.supply_value) - Decimal(total) * 10 / 11) <= Decimal("0.5")
    assert split_vat(-total).vat == -s.vat


def test_simplified_taxpayer_shows_no_vat():
    s = split_vat(5000, shows_vat=False)
    assert (s.supply_value, s.vat) == (5000, 0)


@given(st.integers(-10**9, 10**9), st.integers(1, 10**6))
def test_half_up_matches_decimal_rounding(n, d):
    from decimal import ROUND_HALF_UP

    expected = (Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert half_up(n, d) == int(expected)


def test_percent_of_rounds_half_up():
    assert percent_of(12345, 10) == 1235  # 1234.5 → 1235
    assert percent_of(1000, "12.5") == 125
    assert percent_of(999, 0) == 0


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_spread_sums_exactly_and_stays_proportional(total, weights):
    shares = spread(total, weights)
    assert sum(shares) == total
    wsum = sum(weights)
    if wsum:
        for share, w in zip(shares, weights):
            assert abs(share - total * w / wsum) < 1 + 1e-9
            assert share >= 0


def test_spread_largest_remainder_ties_go_to_first_lines():
    assert spread(100, [1, 1, 1]) == [34, 33, 33]
    assert spread(1000, [3000, 7000]) == [300, 700]


@given(st.integers(-10**7, 10**7), st.integers(1, 50), st.data())
def test_cumulative_shares_return_exactly_the_whole(total, whole, data):
    steps = []
    left = whole
    while left:
        k = data.draw(st.integers(1, left))
        steps.append(k)
        left -= k
    before, got = 0, 0
    for k in steps:
        got += cumulative_share(total, whole, before, k)
        before += k
    assert got == total


@pytest.mark.parametrize("number", ["220-81-62517", "124-81-00998", "2208162517"])
def test_real_registration_numbers_are_valid(number):
    assert bizno.is_valid(number)


@pytest.mark.parametrize("number", ["220-81-62518", "123-45-6789", "abc-de-fghij", "１２４-81-00998"])
def test_wrong_registration_numbers_are_refused(number):
    assert not bizno.is_valid(number)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_with_check_digit_always_makes_a_valid_number(nine):
    number = bizno.with_check_digit(nine)
    assert bizno.is_valid(number)
    assert number.replace("-", "")[:9] == nine
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not bizno.is_valid(wrong)

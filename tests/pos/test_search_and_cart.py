import pytest
from hypothesis import given, strategies as st

from pos.cart import Cart, ParkedCarts
from pos.domain import Discount
from pos.search import ProductIndex, initials

PRODUCTS = [
    {"id": "1", "name": "수제비누", "price": 3000, "barcodes": ["8800000000017"], "sku": "SOAP",
     "enterprise_id": "E", "enterprise_name": "공방", "tax_class": "taxable",
     "tax_status": "general"},
    {"id": "2", "name": "천연 수제 향초", "price": 12000, "barcodes": [], "sku": None,
     "enterprise_id": "E", "enterprise_name": "공방", "tax_class": "taxable",
     "tax_status": "general"},
    {"id": "3", "name": "무농약 쌀 2kg", "price": 11000, "barcodes": ["8801234567893"],
     "sku": "RICE", "enterprise_id": "F", "enterprise_name": "농장", "tax_class": "exempt",
     "tax_status": "general"},
]


def names(found):
    return [p["name"] for p in found]


def test_initials():
    assert initials("수제비누") == "ㅅㅈㅂㄴ"
    assert initials("무농약 쌀 2kg") == "ㅁㄴㅇㅆ2kg"


@pytest.mark.parametrize("query,expected", [
    ("ㅅㅈㅂ", ["수제비누"]),
    ("ㅅㅈ", ["수제비누", "천연 수제 향초"]),
    ("수제", ["수제비누", "천연 수제 향초"]),
    ("수ㅈㅂ", ["수제비누"]),
    ("수제향", ["천연 수제 향초"]),
    ("880123", ["무농약 쌀 2kg"]),
    ("soap", ["수제비누"]),
    ("2KG", ["무농약 쌀 2kg"]),
    ("없는상품", []),
    ("", ["수제비누", "천연 수제 향초", "무농약 쌀 2kg"]),
])
def test_search(query, expected):
    assert names(ProductIndex(PRODUCTS).search(query)) == expected


def test_exact_code_lookup():
    index = ProductIndex(PRODUCTS)
    assert index.by_code("8800000000017")["id"] == "1"
    assert index.by_code(" rice ")["id"] == "3"
    assert index.by_code("999") is None


@given(st.text(alphabet="가나다라마바사아자차카타파하각간갇 ", min_size=1, max_size=12))
def test_a_name_is_found_by_its_own_initials(name):
    if not name.strip():
        return
    product = dict(PRODUCTS[0], id="x", name=name, barcodes=[], sku=None)
    assert ProductIndex([product]).search(initials(name)) == [product]


def test_cart_merges_lines_and_prices_with_vat():
    cart = Cart()
    assert cart.add(PRODUCTS[0]) == 0
    assert cart.add(PRODUCTS[0]) == 0
    cart.add(PRODUCTS[2])
    assert [ln.qty for ln in cart.lines] == [2, 1]
    priced = cart.priced()
    assert priced.totals.total == 17000
    assert (priced.totals.taxable_total, priced.totals.vat) == (6000, 545)
    cart.set_line_discount(0, 500)
    cart.add(PRODUCTS[0])  # a discounted line is not merged into
    assert len(cart.lines) == 3
    cart.set_qty(0, 0)
    assert len(cart.lines) == 2
    cart.discount = Discount.percent(10)
    assert cart.priced().totals.receipt_discount == 1400
    items = cart.sale_items()
    assert [(i.product_id, i.qty, i.unit_price) for i in items] == [("3", 1, 11000), ("1", 1, 3000)]


def test_lowering_qty_caps_the_line_discount():
    cart = Cart()
    cart.add(PRODUCTS[0], 3)
    cart.set_line_discount(0, 7000)
    cart.change_qty(0, -1)
    assert cart.lines[0].line_discount == 6000
    with pytest.raises(ValueError):
        cart.set_line_discount(0, 6001)


def test_park_and_resume():
    parked = ParkedCarts()
    cart = Cart()
    cart.add(PRODUCTS[1])
    fresh = parked.park(cart, "10:31")
    assert fresh.is_empty and len(parked) == 1 and parked.labels() == ["10:31"]
    back = parked.resume(0)
    assert back.lines == cart.lines and len(parked) == 0
    with pytest.raises(ValueError):
        parked.park(Cart(), "x")


def test_names_starting_with_the_query_come_first_even_with_a_limit():
    products = [dict(PRODUCTS[1], id=str(i), name=f"향긋한 수제 {i}") for i in range(50)]
    products.append(dict(PRODUCTS[0], id="s", name="수제 잼"))
    index = ProductIndex(products)
    assert index.search("수제", limit=5)[0]["name"] == "수제 잼"
    assert [p["id"] for p in index.search("수제", limit=3)] == ["s", "0", "1"]
    assert len(index.search("수제")) == 51
    assert index.search("ㅅㅈ", limit=1)[0]["name"] == "수제 잼"

"""The cart at the till and the carts parked while another customer is served.

Plain Python (no Qt): the Sell screen shows a `Cart`, the tests drive it directly. Prices are
those of the catalog snapshot the till shows; the sale is recorded at exactly those prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pos.domain import CartItem, Discount, Priced, TaxClass, TaxStatus, price_cart
from pos.services.sales import SaleItem


@dataclass(frozen=True, slots=True)
class CartLine:
    product_id: str
    name: str
    unit_price: int
    enterprise_id: str
    enterprise_name: str
    tax_class: str
    tax_status: str
    qty: int = 1
    line_discount: int = 0

    @classmethod
    def of(cls, product: dict, qty: int = 1) -> "CartLine":
        return cls(product["id"], product["name"], product["price"], product["enterprise_id"],
                   product["enterprise_name"], product["tax_class"], product["tax_status"], qty)

    @property
    def gross(self) -> int:
        return self.unit_price * self.qty


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)
    discount: Discount | None = None
    label: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def add(self, product: dict, qty: int = 1) -> int:
        """Add a product; the same product at the same price without a discount adds to its
        line. Returns the index of the line."""
        for i, line in enumerate(self.lines):
            if (line.product_id == product["id"] and line.unit_price == product["price"]
                    and not line.line_discount):
                self.lines[i] = replace(line, qty=line.qty + qty)
                return i
        self.lines.append(CartLine.of(product, qty))
        return len(self.lines) - 1

    def set_qty(self, index: int, qty: int) -> None:
        """Set a line's quantity; zero or less removes the line. A line discount larger than
        the new amount is reduced to it."""
        if qty <= 0:
            self.remove(index)
            return
        line = self.lines[index]
        self.lines[index] = replace(line, qty=qty,
                                    line_discount=min(line.line_discount, line.unit_price * qty))

    def change_qty(self, index: int, delta: int) -> None:
        self.set_qty(index, self.lines[index].qty + delta)

    def set_line_discount(self, index: int, won: int) -> None:
        line = self.lines[index]
        if not 0 <= won <= line.gross:
            raise ValueError("line discount outside 0..amount")
        self.lines[index] = replace(line, line_discount=won)

    def remove(self, index: int) -> None:
        del self.lines[index]
        if not self.lines:
            self.discount = None

    def clear(self) -> None:
        self.lines.clear()
        self.discount = None
        self.label = ""

    def priced(self) -> Priced | None:
        """Lines, totals and VAT as they will be charged; None for an empty cart."""
        if not self.lines:
            return None
        items = [CartItem(name=ln.name, unit_price=ln.unit_price, qty=ln.qty,
                          enterprise_id=ln.enterprise_id, enterprise_name=ln.enterprise_name,
                          tax_class=TaxClass(ln.tax_class), tax_status=TaxStatus(ln.tax_status),
                          line_discount=ln.line_discount, product_id=ln.product_id)
                 for ln in self.lines]
        return price_cart(items, self.discount)

    def sale_items(self) -> list[SaleItem]:
        return [SaleItem(ln.product_id, ln.qty, ln.line_discount, ln.unit_price)
                for ln in self.lines]


class ParkedCarts:
    """Carts put aside (a customer looking for cash) and picked up again, oldest first."""

    def __init__(self):
        self._carts: list[Cart] = []

    def __len__(self) -> int:
        return len(self._carts)

    def park(self, cart: Cart, label: str) -> Cart:
        """Keep a copy of `cart` under `label`; returns a new empty cart for the next customer."""
        if cart.is_empty:
            raise ValueError("nothing to park")
        self._carts.append(Cart(list(cart.lines), cart.discount, label))
        return Cart()

    def labels(self) -> list[str]:
        return [c.label for c in self._carts]

    def resume(self, index: int) -> Cart:
        return self._carts.pop(index)

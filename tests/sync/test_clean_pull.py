"""What the organizer's server sends is cleaned as the till's own catalog edits are."""

from __future__ import annotations

from pos import services as s


def test_what_the_server_sends_is_cleaned_not_refused(store):
    """A product from the organizer's server with a control character or an over-long name
    must not stop this till's pulls: it is cleaned as the till's own edits would be."""
    from sync import protocol as p
    from sync.client import apply_remote_page

    product = p.Product(id="0190c0de-0000-7000-8000-000000000001",
                        name="드립\n백\x00커피" + "!" * 150, price=3000, tax_class="taxable",
                        enterprise=p.ProductEnterprise(name="햇살\u202e마을"),
                        category="음료\x1b", hlc="1764600000000-00000-SRV")
    with store.unit_of_work() as uow:
        assert apply_remote_page(uow, [product]) == 1
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        row = s.get_product(uow, product_id=product.id)
        assert row["name"].startswith("드립 백커피") and len(row["name"]) == 100
        assert s.find_enterprise(uow, ref="햇살마을") is not None
        assert [c["name"] for c in s.list_categories(uow)] == ["음료"]

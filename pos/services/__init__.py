"""Use cases over a unit of work. The GUI, the command line and the tests all call these.

Every function takes the unit of work first and keyword-only arguments after it; none of them
commits: the caller decides, so a use case and its outbox entry land together or not at all.
"""

from pos.services.settings import (PrinterSettings, TillSettings, get_setting,  # noqa: F401
                                   payment_methods, save_settings, set_payment_methods,
                                   set_setting, till_settings)
from pos.services.catalog import (add_category, add_enterprise, add_product,  # noqa: F401
                                  find_enterprise, get_product, list_categories,
                                  list_enterprises, list_products, open_price_product,
                                  product_by_barcode,
                                  product_by_code,
                                  set_product_active, update_enterprise, update_product)
from pos.services.sales import (SaleItem, get_document, list_documents,  # noqa: F401
                                payment_methods_of, quote_sale, receipt_outlook, record_sale,
                                refund_sale, refundable_lines, return_states, void_sale)
from pos.services.shifts import (close_shift, current_shift, day_settlement,  # noqa: F401
                                 expected_cash, get_shift, list_shifts, move_cash, movements,
                                 open_drawer, open_shift, pick_shift, shift_settlement)

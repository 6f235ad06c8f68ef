"""The PySide6 till (Sell, Sales history, Shift, Catalog, Settings). Built on `pos` services."""

"""Jangteo's domain core and local store.

`pos` never imports Qt, HTTP clients, escpos or reportlab: the GUI, printing and sync layers
build on it, never the other way round (see tests/test_layers.py).
"""

__version__ = "0.1.0"

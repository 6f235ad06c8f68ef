"""Receipts and reports: ESC/POS rendering with Hangul, printer transports, the print queue, PDFs."""

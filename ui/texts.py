"""The GUI's words: `t(key, **params)` in the language chosen at start, from the one message
catalogue (`pos/locale/*/LC_MESSAGES/jangteo.po`, read by `pos.i18n`). Money always goes
through `pos.money.format_won` (`won()` here).
"""

from __future__ import annotations

from pos.i18n import FALLBACK, error_text, languages, tax_note, tax_rows, tr
from pos.money import format_won

_lang = "ko"

SHORTCUTS = [f"shortcut_{i:02d}" for i in range(1, 19)]  # F1 help: `_keys` and what they do


def set_language(lang: str) -> None:
    global _lang
    _lang = lang if lang in languages() else FALLBACK


def language() -> str:
    return _lang


def t(key: str, /, **params) -> str:
    return tr(key, _lang, **params)


def won(amount: int) -> str:
    return format_won(amount, _lang)


def tax_line(breakdown, *, note: bool = False) -> str:
    """A VAT breakdown on one line, in the words the receipt and reports print
    (`pos.domain.TaxBreakdown`); `note` adds why a simplified taxpayer's part has no VAT."""
    text = " · ".join(f"{words} {won(value)}" for words, value in tax_rows(breakdown, _lang))
    if note and tax_note(breakdown, _lang):
        text += "\n" + tax_note(breakdown, _lang)
    return text


def explain(error: BaseException) -> str:
    """A core error as a sentence in the GUI's language."""
    return error_text(error, _lang)

"""Every sentence a person reads, from one message catalogue: gettext `.po` files.

`pos/locale/<lang>/LC_MESSAGES/jangteo.po` holds one language: the till's window, the core's
errors, receipts, reports, the command line and the organizer's server. Each message is keyed
by the name the code uses (`msgid`), sometimes within a context (`msgctxt`: "receipt",
"report", "cli", "server"); its text uses `{name}` placeholders (`{total:won}` formats money
with `pos.money.format_won`). A message with a count has plural forms chosen by the
catalogue's own `Plural-Forms` rule from its `count` parameter (Korean has one form, English
two). A language is a folder: adding a third needs a translated `.po` file and no code.

The catalogues are read here with a small reader of the standard format (Babel would bring
30 MB of locale data into the packaged app for what is a text file; the tests read the same
files with Babel, independently). English is the fallback for a message a catalogue lacks.
"""

from __future__ import annotations

import gettext
import locale
import logging
import os
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from pos.money import format_won

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "jangteo"
FALLBACK = "en"

Key = tuple[str | None, str]  # (context, message key)


@dataclass
class Catalogue:
    lang: str
    plural: Callable[[int], int]
    messages: dict[Key, tuple[str, ...]] = field(default_factory=dict)  # one text per form
    headers: dict[str, str] = field(default_factory=dict)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted string: {text[:40]}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(text: str, lang: str = "") -> Catalogue:
    """A `.po` file's messages. Fuzzy and empty translations are left out (not translated)."""
    entries: list[dict] = []
    entry: dict = {}
    field_name = None

    def finish():
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {}

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            field_name = None
            continue
        if line.startswith("#"):
            if "msgid" in entry:
                finish()
            if line.startswith("#,") and "fuzzy" in line:
                entry["fuzzy"] = True
            continue
        if line.startswith('"'):
            if field_name is None:
                raise ValueError(f"text outside a message: {line[:40]}")
            entry[field_name] += _unquote(line)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and "msgid" in entry and (
                keyword == "msgctxt" or "msgstr" in entry or "msgstr[0]" in entry):
            finish()
        if not re.fullmatch(r"msgctxt|msgid|msgid_plural|msgstr(\[\d+\])?", keyword):
            raise ValueError(f"unknown keyword {keyword[:20]}")
        field_name = keyword
        entry[keyword] = _unquote(rest)
    finish()

    catalogue = Catalogue(lang, lambda n: 0 if n == 1 else 1)
    for e in entries:
        if e["msgid"] == "" and "msgctxt" not in e:
            for header in e.get("msgstr", "").splitlines():
                name, _, value = header.partition(":")
                if name.strip():
                    catalogue.headers[name.strip()] = value.strip()
            continue
        if e.get("fuzzy"):
            continue
        forms = (tuple(e[k] for k in sorted((k for k in e if k.startswith("msgstr[")),
                                            key=lambda k: int(k[7:-1])))
                 if "msgid_plural" in e else (e.get("msgstr", ""),))
        if forms and all(forms):
            catalogue.messages[(e.get("msgctxt"), e["msgid"])] = forms
    rule = catalogue.headers.get("Plural-Forms", "")
    match = re.search(r"plural\s*=\s*([^;]+)", rule)
    if match:
        catalogue.plural = gettext.c2py(match.group(1).strip())
    catalogue.lang = lang or catalogue.headers.get("Language", "")
    return catalogue


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> Catalogue | None:
    path = catalogue_path(lang)
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", lang or "") or not path.is_file():
        return None
    try:  # a catalogue damaged by hand (a stray line, a lost quote, another encoding) must
        # never stop the till: its language falls back to English, and the log says why
        return parse_po(path.read_bytes().decode("utf-8").lstrip("\ufeff"), lang)
    except (ValueError, SyntaxError, OSError) as e:  # UnicodeDecodeError is a ValueError
        logging.getLogger("jangteo.i18n").warning("message catalogue %s cannot be read: %s",
                                                  path, e)
        return None


def languages() -> list[str]:
    """The languages there is a catalogue for: Korean first, then the others by code."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return sorted(found, key=lambda code: (code != "ko", code))


def language_name(lang: str) -> str:
    return tr("language_name", lang)


class Phrase:
    """A message of the catalogue given as a parameter of another one, said in that one's
    language when it is said (e.g. the reason inside "3 events differ … ({detail})")."""

    __slots__ = ("code", "params")

    def __init__(self, code: str, /, **params):
        self.code = code
        self.params = params

    def text(self, lang: str) -> str:
        return tr(self.code, lang, **self.params)

    def __str__(self) -> str:  # e.g. in a log line
        return self.text(FALLBACK)

    def __repr__(self) -> str:
        return f"Phrase({self.code!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Phrase) and (self.code, self.params) == (other.code, other.params)

    def __hash__(self) -> int:
        return hash(self.code)


class _Value:
    """Lets messages say `{total:won}` and get the one money formatter's output, and a
    `Phrase` parameter in the message's language."""

    def __init__(self, value, lang: str):
        self.value = value
        self.lang = lang

    def __format__(self, spec: str) -> str:
        if isinstance(self.value, Phrase):
            return format(self.value.text(self.lang), spec)
        if spec == "won":
            return format_won(int(self.value), self.lang)
        return format(self.value, spec)

    def __str__(self) -> str:
        if isinstance(self.value, Phrase):
            return self.value.text(self.lang)
        return str(self.value)


def _lookup(key: Key, lang: str) -> tuple[Catalogue, tuple[str, ...]] | None:
    for code in (lang, FALLBACK):
        found = catalogue(code)
        if found is not None and key in found.messages:
            return found, found.messages[key]
    return None


def tr(code: str, lang: str = "ko", /, *, context: str | None = None, **params) -> str:
    """The sentence for `code` in `lang`; plural forms follow `count` (or `n`). An unknown code
    shows itself with its parameters rather than nothing."""
    found = _lookup((context, code), lang)
    if found is None:
        return f"{code} {params}" if params else code
    cat, forms = found
    text = _form(cat, forms, params)
    if not params:
        return text
    try:
        return text.format(**{k: _Value(v, lang) for k, v in params.items()})
    except (KeyError, IndexError, ValueError, AttributeError):
        # a translation with a mistyped placeholder: the English sentence, rightly filled
        english = None if cat.lang == FALLBACK else _lookup((context, code), FALLBACK)
        if english is not None:
            try:
                return _form(*english, params).format(
                    **{k: _Value(v, FALLBACK) for k, v in params.items()})
            except (KeyError, IndexError, ValueError, AttributeError):
                pass
        return text


def _form(cat: Catalogue, forms: tuple[str, ...], params: dict) -> str:
    count = params.get("count", params.get("n"))
    if len(forms) > 1 and isinstance(count, int):
        try:
            return forms[min(max(int(cat.plural(abs(count))), 0), len(forms) - 1)]
        except Exception:  # noqa: BLE001 - a plural rule that cannot be evaluated
            return forms[-1]
    return forms[0]


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a message text."""
    return {name.split(".")[0].split("[")[0] for _lit, name, _spec, _conv
            in string.Formatter().parse(text) if name}


def error_text(error: BaseException, lang: str = "ko") -> str:
    code = getattr(error, "code", None)
    if code:
        return tr(code, lang, **getattr(error, "params", {}))
    return str(error)


def detect_lang(explicit: str | None = None) -> str:
    """`--lang`, else `JANGTEO_LANG`, else the system's language when there is a catalogue
    for it (Korean on a Korean system), else English."""
    available = languages()
    for value in (explicit, os.environ.get("JANGTEO_LANG")):
        if value in available:
            return value
    candidates = [os.environ.get(v) for v in ("LC_ALL", "LC_MESSAGES", "LANG")]
    try:
        candidates.append(locale.getlocale()[0])
    except ValueError:
        pass
    for c in candidates:
        if c and c not in ("C", "POSIX") and not c.startswith("C."):
            code = c.split(".")[0].split("_")[0].lower()
            return code if code in available else FALLBACK
    return FALLBACK


def tax_rows(breakdown, lang: str = "ko") -> list[tuple[str, int]]:
    """A `pos.domain.TaxBreakdown` as (words, amount) rows: the same words wherever a VAT
    breakdown is shown (message context "tax")."""
    return [(tr(key, lang, context="tax"), amount) for key, amount in breakdown.rows()]


def tax_note(breakdown, lang: str = "ko") -> str | None:
    """The sentence said under a breakdown with a simplified taxpayer's sales in it."""
    return tr(breakdown.note, lang, context="tax") if breakdown.note else None

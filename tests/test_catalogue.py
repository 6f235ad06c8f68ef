"""The one message catalogue: every sentence in every language, with the same placeholders,
read the same by Babel (an independent reader of the format) as by the till; plural forms;
and a third language that needs no code."""

from __future__ import annotations

import re
import shutil

import pytest
from babel.messages.pofile import read_po

from pos import i18n
from pos.i18n import catalogue, catalogue_path, detect_lang, languages, placeholders, tr
from tests.conftest import ROOT

LANGS = ["ko", "en"]


def babel_messages(lang):
    with open(catalogue_path(lang), "rb") as fh:
        cat = read_po(fh)
    out = {}
    for m in cat:
        if not m.id:
            continue
        key = (m.context, m.id[0] if isinstance(m.id, tuple) else m.id)
        out[key] = tuple(m.string) if isinstance(m.string, tuple) else (m.string,)
    return cat, out


@pytest.mark.parametrize("lang", LANGS)
def test_the_tills_reader_reads_what_babel_reads(lang):
    cat, babel = babel_messages(lang)
    assert catalogue(lang).messages == babel
    assert cat.num_plurals == {"ko": 1, "en": 2}[lang]
    assert len(babel) > 400


def test_every_message_is_in_every_language_with_the_same_placeholders():
    reference = catalogue("en").messages
    problems = []
    for lang in languages():
        messages = catalogue(lang).messages
        if set(messages) != set(reference):
            problems.append((lang, sorted(set(reference) ^ set(messages))[:10]))
        for key, forms in messages.items():
            wanted = placeholders(reference.get(key, forms)[-1])
            for form in forms:
                if placeholders(form) != wanted:
                    problems.append((lang, key, form))
    assert problems == []


def test_the_korean_catalogue_is_korean():
    messages = catalogue("ko").messages
    latin_only = [k for k, forms in messages.items()
                  if not re.search("[\uac00-\ud7a3]", forms[0]) and not k[1].endswith("_keys")]
    # a few are the same in both languages (a title, a unit, a receipt number format)
    assert len(latin_only) < 25, latin_only


KEY_USES = [  # (context, which files, how the code names a message)
    (None, "ui/**/*.py", re.compile(r'\bt\(\s*"([a-z_0-9]+)"')),
    (None, "ui/**/*.py", re.compile(r'\("((?:btn|nav|col|tab)_[a-z_]+)"')),
    (None, "pos/**/*.py", re.compile(r'(?:DomainError|StoreError|ImportFileError|PrinterError|'
                                     r'SyncError|LogoError)\(\s*"([a-z_0-9]+)"')),
    (None, "printing/**/*.py", re.compile(r'(?:PrinterError|LogoError)\(\s*"([a-z_0-9]+)"')),
    (None, "sync/**/*.py", re.compile(r'SyncError\(\s*"([a-z_0-9]+)"')),
    (None, "sync/**/*.py", re.compile(r'Phrase\(\s*"([a-z_0-9]+)"')),  # a sentence's part
    (None, "pos/**/*.py", re.compile(r'RowProblem\([^,]+,\s*[^,]+,\s*"([a-z_0-9]+)"')),
    ("receipt", "printing/**/*.py", re.compile(r'\blabel\(\s*"([a-z_0-9]+)"')),
    ("report", "printing/**/*.py", re.compile(r'\bword\(\s*"([a-z_0-9]+)"')),
    # the command lines: `h("key")` is a help text, `say("key", lang, …)` a sentence, and a
    # selftest step is named by its message
    ("cli", "pos/cli.py", re.compile(r'\b(?:h|say)\(\s*"([a-z_0-9]+)"')),
    ("cli", "pos/cli.py", re.compile(r'"((?:check_rule|reason)_[a-z_]+)"')),  # word tables
    ("cli", "pos/cli_staff.py", re.compile(r'\b(?:h|say)\(\s*"([a-z_0-9]+)"')),
    ("cli", "pos/cli_cash_receipts.py", re.compile(r'\b(?:h|say)\(\s*"([a-z_0-9]+)"')),
    ("cli", "printing/cli.py", re.compile(r'\b(?:h|say)\(\s*"([a-z_0-9]+)"')),
    ("cli", "sync/cli.py", re.compile(r'\b(?:h|say)\(\s*"([a-z_0-9]+)"')),
    ("cli", "ui/main.py", re.compile(r'\bsay\(\s*"([a-z_0-9]+)"')),
    ("cli", "ui/selftest.py", re.compile(r'\b(?:h|say|step)\(\s*"([a-z_0-9]+)"')),
    ("server", "sync/server/*.py", re.compile(r'\b(?:h|say)\(\s*"([a-z_0-9]+)"')),
    # the organizer's console: its pages' words and its routes' sentences
    ("console", "sync/server/templates/*.html", re.compile(r'\b_\(\s*["\']([a-z_0-9]+)["\']')),
    ("console", "sync/server/console_routes.py",
     re.compile(r'(?:\bwords\(|\brefused\(request, \w+, |\bagain\()\s*"([a-z_0-9]+)"')),
]


def keys_the_code_names() -> set:
    used = set()
    for context, files, pattern in KEY_USES:
        found = set()
        for path in ROOT.glob(files):
            found.update(pattern.findall(path.read_text(encoding="utf-8")))
        assert found, (files, pattern.pattern)  # a pattern that finds nothing checks nothing
        used.update((context, key) for key in found)
    for path in (ROOT).glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for key, context in re.findall(r'\btr\(\s*"([a-z_0-9]+)",[^)]*?context="([a-z]+)"', text):
            used.add((context, key))
    return used


def test_every_message_the_code_names_is_in_the_catalogue():
    known = set(catalogue("en").messages)
    used = keys_the_code_names()
    assert len(used) > 400
    assert sorted(used - known) == []


def test_every_command_line_message_is_one_the_code_names():
    """The other way round for the command lines: a message no call site names is a sentence
    left behind (or a call site the patterns above do not see, which would go unchecked)."""
    used = keys_the_code_names()
    listed = {k for k in catalogue("en").messages if k[0] in ("cli", "server")}
    assert len(listed) > 120
    assert sorted(listed - used) == []


def test_argparse_words_are_argparse_own_english_text():
    """argparse's words are keyed by its English text: English is argparse's own, and a key
    argparse does not use any more would be a translation nobody sees."""
    import argparse
    import inspect

    source = inspect.getsource(argparse)
    words = {k[1]: forms for k, forms in catalogue("en").messages.items() if k[0] == "argparse"}
    assert len(words) >= 15
    for text, forms in words.items():
        assert forms == (text,)
        assert repr(text)[1:-1] in source, text
    assert tr("usage: ", "ko", context="argparse") == "사용법: "
    assert tr("options", "en", context="argparse") == "options"
    assert tr("no such argparse text", "ko", context="argparse") == "no such argparse text"


def test_command_line_counts_have_plural_forms():
    assert tr("check_ok", "en", context="cli", count=1) == "All good: 1 document checked."
    assert tr("check_ok", "en", context="cli", count=20) == "All good: 20 documents checked."
    assert tr("shift_figures", "en", context="cli", number=1, count=1, net=3000,
              expected=1000) == "Shift #1 · 1 receipt · net ₩3,000 · expected cash ₩1,000"
    assert tr("totals_net", "en", context="server", net=0, count=1) == "net ₩0 · 1 enterprise"
    assert tr("totals_net", "ko", context="server", net=0, count=0) == "순매출 0원 · 업체 0곳"
    assert tr("demo_done", "ko", context="cli", path="/d", sales="판매 2건", refunds="환불 0건",
              voids="취소 1건") == "데모 완료: 판매 2건, 환불 0건, 취소 1건 → /d"


def test_plural_forms_follow_the_count():
    assert tr("status_receipts", "en", count=1, next="A01") == "Today 1 receipt · next A01"
    assert tr("status_receipts", "en", count=2, next="A01") == "Today 2 receipts · next A01"
    assert tr("status_receipts", "en", count=0, next="A01") == "Today 0 receipts · next A01"
    assert tr("status_receipts", "ko", count=1, next="A01") == \
        tr("status_receipts", "ko", count=7, next="A01").replace("7", "1")


def test_money_in_a_message_goes_through_the_one_formatter():
    assert tr("payment_short", "ko", short=3100, total=8100) == "3,100원이 부족합니다 (합계 8,100원)."
    assert tr("payment_short", "en", short=3100, total=8100) == "₩3,100 is still due (total ₩8,100)."


def test_a_third_language_is_a_folder_not_code(tmp_path, monkeypatch):
    locale_dir = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale_dir)
    ja = locale_dir / "ja" / "LC_MESSAGES"
    ja.mkdir(parents=True)
    text = catalogue_path("en").read_text(encoding="utf-8")
    text = text.replace('"Language: en\\n"', '"Language: ja\\n"')
    text = text.replace('"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
                        '"Plural-Forms: nplurals=1; plural=0;\\n"')
    text = re.sub(r'msgid "language_name"\nmsgstr "English"', 'msgid "language_name"\nmsgstr "日本語"',
                  text)
    text = re.sub(r'(msgid "nav_sell"\n)msgstr "[^"]*"', r'\1msgstr "販売"', text)
    text = re.sub(r'(msgid "won_format"\n)msgstr "[^"]*"', r'\1msgstr "{digits}ウォン"', text)
    # a half-done translation: one message left empty falls back to English
    text = re.sub(r'(msgid "nav_history"\n)msgstr "[^"]*"', r'\1msgstr ""', text)
    # plural entries collapse to the one form Japanese has
    text = re.sub(r'msgstr\[0\] ((?:"[^\n]*"\n)+)msgstr\[1\] ((?:"[^\n]*"\n)+)', r'msgstr[0] \2',
                  text)
    (ja / "jangteo.po").write_text(text, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale_dir)
    i18n.catalogue.cache_clear()
    try:
        assert languages() == ["ko", "en", "ja"]
        assert i18n.language_name("ja") == "日本語"
        assert tr("nav_sell", "ja") == "販売"
        from pos.money import format_won

        assert format_won(-3000, "ja") == "-3,000ウォン"  # its catalogue writes the money
        assert tr("nav_history", "ja") == tr("nav_history", "en")
        assert tr("status_receipts", "ja", count=1, next="A") == "Today 1 receipts · next A"
        # the command lines offer every catalogue for --lang
        import argparse

        from pos.cli import build_parser
        from sync.server.cli import build_parser as server_parser

        monkeypatch.setattr(argparse, "_", argparse._)  # the parsers swap argparse's words
        assert build_parser("ja").parse_args(["--lang", "ja"]).lang == "ja"
        assert server_parser("ja").parse_args(["--lang", "ja", "alerts", "x"]).lang == "ja"
        for var in ("JANGTEO_LANG", "LC_ALL", "LC_MESSAGES"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("LANG", "ja_JP.UTF-8")
        assert detect_lang() == "ja"
    finally:
        i18n.catalogue.cache_clear()


def test_a_damaged_catalogue_line_is_refused_not_guessed():
    with pytest.raises(ValueError):
        i18n.parse_po('msgid "a"\nmsgstr "b\nmsgid "c"\n')
    with pytest.raises(ValueError):
        i18n.parse_po('msgid "a"\nbogus "b"\n')
    parsed = i18n.parse_po('#, fuzzy\nmsgid "a"\nmsgstr "guess"\n\nmsgid "b"\nmsgstr "s\\"\\n"\n')
    assert parsed.messages == {(None, "b"): ('s"\n',)}


@pytest.mark.parametrize("damage", [
    lambda text: text.replace('msgid "nav_sell"', 'this is not po\nmsgid "nav_sell"', 1),
    lambda text: text.replace('msgstr "판매"', 'msgstr "판매', 1),
    lambda text: text[: text.index('msgstr "판매"') + 10],  # a file cut mid-string
    lambda text: text.replace("nplurals=1; plural=0;", "nplurals=1; plural=(n !=;", 1),
])
def test_a_damaged_catalogue_falls_back_to_english_and_never_stops_the_till(
        tmp_path, monkeypatch, damage):
    locale_dir = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale_dir)
    path = locale_dir / "ko" / "LC_MESSAGES" / "jangteo.po"
    text = damage(path.read_text(encoding="utf-8"))
    path.write_bytes(text.encode("utf-8"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale_dir)
    i18n.catalogue.cache_clear()
    try:
        assert tr("nav_sell", "ko") == tr("nav_sell", "en") == "Sell"
    finally:
        i18n.catalogue.cache_clear()


def test_a_catalogue_saved_with_a_bom_or_in_another_encoding(tmp_path, monkeypatch):
    locale_dir = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale_dir)
    ko = locale_dir / "ko" / "LC_MESSAGES" / "jangteo.po"
    ko.write_bytes(b"\xef\xbb\xbf" + ko.read_bytes())  # what Notepad writes: still read
    en = locale_dir / "en" / "LC_MESSAGES" / "jangteo.po"
    en.write_bytes(en.read_bytes().replace(b'msgstr "Sell"', b'msgstr "S\xe9ll"', 1))  # Latin-1
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale_dir)
    i18n.catalogue.cache_clear()
    try:
        assert tr("nav_sell", "ko") == "판매"
        assert tr("nav_sell", "en") == "nav_sell"  # no English either: the key, not a crash
    finally:
        i18n.catalogue.cache_clear()


def test_a_mistyped_placeholder_in_a_translation_gives_the_english_sentence(tmp_path,
                                                                           monkeypatch):
    locale_dir = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale_dir)
    path = locale_dir / "ko" / "LC_MESSAGES" / "jangteo.po"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'(msgid "payment_short"\nmsgstr "[^"]*)\{total:won\}', r"\1{totl}", text)
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale_dir)
    i18n.catalogue.cache_clear()
    try:
        assert tr("payment_short", "ko", short=3100, total=8100) == \
            "₩3,100 is still due (total ₩8,100)."
    finally:
        i18n.catalogue.cache_clear()

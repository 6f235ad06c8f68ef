"""Every message the core can raise reads well in Korean and English."""

import re
import string
from pathlib import Path

import pytest

from pos.i18n import MESSAGES, detect_lang, tr

POS = Path(__file__).resolve().parents[2] / "pos"
RAISED = re.compile(r'(?:DomainError|StoreError|ImportFileError|PrinterError)\(\s*"([a-z_0-9]+)"'
                    r'|RowProblem\([^,]+,\s*[^,]+,\s*"([a-z_0-9]+)"'
                    r'|\{[^{}]*"(value_[a-z_]+)"')


def codes_in_source() -> set[str]:
    found = set()
    for path in [*POS.rglob("*.py"), *(POS.parent / "printing").rglob("*.py")]:
        for m in RAISED.finditer(path.read_text(encoding="utf-8")):
            found.add(next(g for g in m.groups() if g))
    return found


def test_every_raised_code_has_both_languages():
    codes = codes_in_source()
    assert len(codes) > 40
    missing = sorted(c for c in codes if c not in MESSAGES)
    assert missing == []


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_both_languages_use_the_same_placeholders(code):
    ko, en = MESSAGES[code]
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}  # noqa: E731
    assert fields(ko) == fields(en)
    assert re.search("[\uac00-\ud7a3]", ko), "the Korean text has Hangul"


def test_amounts_in_messages_use_the_money_formatter():
    assert tr("payment_short", "ko", short=3100, total=8100) == "3,100원이 부족합니다 (합계 8,100원)."
    assert tr("payment_short", "en", short=3100, total=8100) == "₩3,100 is still due (total ₩8,100)."


def test_language_detection(monkeypatch):
    for var in ("JANGTEO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert detect_lang() == "ko"
    assert detect_lang("en") == "en"
    monkeypatch.setenv("JANGTEO_LANG", "en")
    assert detect_lang() == "en"

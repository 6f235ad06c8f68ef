"""Every text the GUI shows exists in Korean and English."""

import re
import string
from pathlib import Path

import pytest

from ui.texts import TEXTS

UI = Path(__file__).resolve().parents[2] / "ui"


def test_every_key_used_by_the_gui_exists():
    used = set()
    for path in UI.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\(\s*"([a-z_0-9]+)"', text))
        used |= set(re.findall(r'\("(?:btn|nav|col|tab)_[a-z_]+"', text))
    used = {u.strip('("') for u in used}
    assert used - set(TEXTS) == set()
    assert len(used) > 60


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_both_languages_have_the_same_placeholders(key):
    ko, en = TEXTS[key]
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    assert fields(ko) == fields(en) and ko and en

"""Every printer model has a name in every language's catalogue."""

from pos.i18n import catalogue, languages
from printing.profiles import PRESETS


def test_every_preset_is_named_in_every_catalogue():
    for lang in languages():
        messages = catalogue(lang).messages
        missing = [key for key in PRESETS if ("printer", key) not in messages]
        assert missing == [], (lang, missing)
    assert PRESETS["generic-58"].label("ko") == "58 mm (일반)"
    assert PRESETS["generic-58"].label("en") == "58 mm (generic)"

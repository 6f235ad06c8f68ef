"""Which language a person gets (the messages themselves: tests/test_catalogue.py)."""

from pos.i18n import detect_lang


def test_language_detection(monkeypatch):
    for var in ("JANGTEO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert detect_lang() == "ko"
    assert detect_lang("en") == "en"
    assert detect_lang("xx") == "ko"  # no catalogue for it: the system's language
    monkeypatch.setenv("JANGTEO_LANG", "en")
    assert detect_lang() == "en"
    monkeypatch.delenv("JANGTEO_LANG")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert detect_lang() == "en"  # no German catalogue: English
    monkeypatch.setenv("LANG", "C")
    assert detect_lang() == "en"

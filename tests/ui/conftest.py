"""GUI fixtures: the real main window on a real store, offscreen, with the vendor's answers
to questions supplied by the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos.demo import load_demo_catalog
from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


class Answers:
    """Stands in for the vendor at `ui.prompts`: records what was said, answers as told."""

    def __init__(self):
        self.errors: list[str] = []
        self.infos: list[str] = []
        self.confirms: list[str] = []
        self.confirm_answer = True
        self.ints: list = []
        self.texts: list = []
        self.choices: list = []

    def install(self, monkeypatch):
        from ui import prompts

        monkeypatch.setattr(prompts, "error", lambda parent, text, title=None: self.errors.append(text))
        monkeypatch.setattr(prompts, "info", lambda parent, text, title=None: self.infos.append(text))
        monkeypatch.setattr(prompts, "confirm",
                            lambda parent, text: self.confirms.append(text) or self.confirm_answer)
        monkeypatch.setattr(prompts, "ask_int", lambda *a, **k: self.ints.pop(0))
        monkeypatch.setattr(prompts, "ask_text", lambda *a, **k: self.texts.pop(0))
        monkeypatch.setattr(prompts, "ask_discount", lambda *a, **k: self.texts.pop(0))
        monkeypatch.setattr(prompts, "choose", lambda *a, **k: self.choices.pop(0))


@pytest.fixture
def answers(monkeypatch) -> Answers:
    a = Answers()
    a.install(monkeypatch)
    return a


@pytest.fixture
def demo_store(store):
    """The demo stall with a shift open, as a vendor's day starts."""
    from pos import services as svc

    load_demo_catalog(store)
    with store.unit_of_work() as uow:
        svc.open_shift(uow, float_amount=100000)
        uow.commit()
    return store


@pytest.fixture
def fresh_store(store):
    """The demo stall before anyone opened a shift."""
    load_demo_catalog(store)
    return store


@pytest.fixture
def window(qtbot, demo_store, answers):
    from ui.app import application, open_window

    application()
    w = open_window(demo_store, "ko")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.sell.cart.clear()
    w.close()


def when_modal(qtbot, cls, action):
    """Run `action(dialog)` as soon as a modal `cls` dialog is up (modal dialogs block the
    click that opens them, so the test's hand has to be scheduled first)."""
    from ui.qt import QApplication, QTimer

    state = {"done": False, "error": None}

    def attempt():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, cls):
            QTimer.singleShot(10, attempt)
            return
        try:
            action(dialog)
        except BaseException as e:  # noqa: BLE001 - reported by the test after exec returns
            state["error"] = e
            dialog.reject()
        state["done"] = True

    QTimer.singleShot(0, attempt)
    return state


def shot(widget, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path

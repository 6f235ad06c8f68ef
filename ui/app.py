"""Starting the GUI: fonts, the data directory, the first-start choice, the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pos.i18n import detect_lang, languages
from pos.store import Store, StoreError


def display_available() -> bool:
    """False on a Linux machine without a screen (a server, CI), where Qt would abort."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM"))


def application():
    """The QApplication, with a Korean font even where the system has none."""
    from printing.fonts import BOLD, REGULAR
    from ui.qt import QApplication, QFont, QFontDatabase

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Jangteo")
    from ui import wheel

    wheel.install(app)
    if not QFontDatabase.families(QFontDatabase.Korean):
        family = None
        for path in (REGULAR, BOLD):
            fid = QFontDatabase.addApplicationFont(str(path))
            if fid >= 0 and family is None:
                family = QFontDatabase.applicationFontFamilies(fid)[0]
        if family:
            font = QFont(family)
            font.setPointSizeF(max(app.font().pointSizeF(), 10.5))
            app.setFont(font)
    return app


def use_language(lang: str) -> None:
    """Our texts and Qt's own (Yes/No, OK/Cancel in standard dialogs) in `lang`."""
    from pathlib import Path

    import PySide6

    from ui.qt import QApplication, QLibraryInfo, QLocale, QTranslator
    from ui.texts import set_language

    set_language(lang)
    app = QApplication.instance()
    if app is None:
        return
    old = getattr(app, "_jangteo_translator", None)
    if old is not None:
        app.removeTranslator(old)
        app._jangteo_translator = None
    if lang != "ko":
        return
    translator = QTranslator(app)
    for folder in (QLibraryInfo.path(QLibraryInfo.TranslationsPath),
                   str(Path(PySide6.__file__).parent / "Qt" / "translations")):
        if translator.load(QLocale(QLocale.Korean), "qtbase", "_", folder):
            app.installTranslator(translator)
            app._jangteo_translator = translator
            return


def choose_language(store: Store, explicit: str | None) -> str:
    from pos.services import till_settings

    if explicit in languages():
        return explicit
    with store.unit_of_work(write=False) as uow:
        stored = till_settings(uow).language
    return stored if stored in languages() else detect_lang()


def first_start(store: Store, ask) -> None:
    """On an empty data directory, offer the demo stall (or start empty)."""
    from pos.demo import load_demo_catalog
    from pos.services import list_enterprises

    with store.unit_of_work(write=False) as uow:
        empty = not list_enterprises(uow)
    if empty and ask(str(store.data_dir)):
        load_demo_catalog(store)


def open_window(store: Store, lang: str):
    """The main window on an open store, logging and error dialogs in place."""
    from ui.errors import install_excepthook, setup_logging
    from ui.main_window import MainWindow
    use_language(lang)
    window = MainWindow(store)
    install_excepthook(setup_logging(store.data_dir), lambda: window)
    return window


def geometry_file() -> Path:
    """Where the window's last size and place are kept: the user's state folder (beside the
    receipt marks, `pos.marks.state_dir`), not the data folder a stick may carry elsewhere."""
    from pos.marks import state_dir

    return state_dir() / "window.ini"


def show_fitting(window) -> None:
    """As the vendor left it (size, place, maximised), else maximised: a window sized to a
    1366×768 client area had put the status bar and the Pay button off a 1366×768 laptop's
    screen. A place no screen shows any more (a monitor unplugged) is not restored."""
    from ui.qt import QGuiApplication, QSettings

    settings = QSettings(str(geometry_file()), QSettings.IniFormat)
    saved = settings.value("geometry")
    if saved is not None and window.restoreGeometry(saved):
        frame = window.frameGeometry()
        if any(s.availableGeometry().intersects(frame) for s in QGuiApplication.screens()):
            if settings.value("maximized", "true") == "true":
                window.showMaximized()
            else:
                window.show()
            return
    window.showMaximized()


def keep_geometry(window) -> None:
    """Called as the window closes: its size, place and maximised state for the next start.
    A state folder that cannot be written only loses this convenience."""
    from ui.qt import QSettings

    try:
        geometry_file().parent.mkdir(parents=True, exist_ok=True)
        settings = QSettings(str(geometry_file()), QSettings.IniFormat)
        settings.setValue("geometry", window.saveGeometry())
        settings.setValue("maximized", "true" if window.isMaximized() else "false")
        settings.sync()
    except OSError:
        pass


def open_store(data_dir: Path, refuse) -> Store | None:
    """The store, or None after `refuse(sentence)` said why not: the same sentence as the
    command line's, whatever went wrong (an unexpected error too, never a traceback)."""
    from ui.texts import explain

    try:
        return Store(data_dir)
    except StoreError as e:
        refuse(explain(e))
    except Exception as e:  # noqa: BLE001 - the vendor gets a sentence, the log the rest
        import logging

        logging.getLogger("jangteo").exception("start failed")
        refuse(explain(StoreError("data_dir_unusable", path=str(data_dir),
                                  detail=f"{type(e).__name__}: {e}"[:300])))
    return None


def tell_start_notes(store: Store, parent) -> None:
    """What the store found at this start (receipts it lacks, a former store gone, the clock
    behind the newest sale), once, in one dialog."""
    from ui import prompts
    from ui.texts import explain

    if store.notes:
        prompts.error(parent, "\n\n".join(explain(n) for n in store.notes))


def run_gui(data_dir: Path, lang: str | None = None) -> int:
    app = application()
    from ui import prompts
    from ui.qt import QMessageBox
    from ui.texts import explain, t

    use_language(detect_lang(lang))
    store = open_store(data_dir, lambda text: QMessageBox.critical(None, t("cannot_start"), text))
    if store is None:
        return 3
    try:
        use_language(choose_language(store, lang))
        try:
            first_start(store, lambda path: prompts.choose_first_start(None, path))
            window = open_window(store, choose_language(store, lang))
        except StoreError as e:  # e.g. the disk filled while the demo catalog went in
            QMessageBox.critical(None, t("cannot_start"), explain(e))
            return 3
        show_fitting(window)
        tell_start_notes(store, window)
        return app.exec()
    finally:
        store.close()

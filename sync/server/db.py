"""The server's database: a SQLite file by default, PostgreSQL by URL; migrations at start."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
DATA_DIR_ENV = "JANGTEO_SERVER_DATA_DIR"
DB_FILE = "jangteo-server.db"


def default_data_dir() -> Path:
    """Where the server keeps its SQLite database when no URL is given: `JANGTEO_SERVER_DATA_DIR`,
    else the platform's user data folder (not the folder the server happens to be started
    from: another day, another folder, and the season's sales seemed gone)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("Jangteo Server", appauthor=False))


def default_url() -> str:
    return f"sqlite:///{(default_data_dir() / DB_FILE).as_posix()}"


def where(url: str) -> str:
    """The database as a person looks for it: a SQLite file's path, else the URL without its
    password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return str(Path(parsed.database))
    return parsed.render_as_string(hide_password=True)


class ExactSum:
    """SUM in Python integers, for SQLite, whose own SUM fails past 64 bits ("integer
    overflow"). A sum that does not fit 64 bits comes back as its decimal text."""

    def __init__(self):
        self.total = None

    def step(self, value):
        if value is not None:
            self.total = (self.total or 0) + int(value)

    def finalize(self):
        if self.total is None or -2**63 <= self.total < 2**63:
            return self.total
        return str(self.total)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            dbapi_conn.create_aggregate("exact_sum", 1, ExactSum)

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, future=True, pool_size=10, max_overflow=20, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

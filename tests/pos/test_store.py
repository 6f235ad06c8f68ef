"""The local store: durability settings, migrations, the directory lock, damaged files."""

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pos import services as s
from pos.domain import Tender
from pos.i18n import error_text
from pos.store import Store, StoreError, backup, default_data_dir
from pos.tables import metadata
from tests.conftest import ROOT, in_shift


def test_sales_database_runs_wal_with_full_sync(store):
    with store.unit_of_work(write=False) as uow:
        assert uow.conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert uow.conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert uow.conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert store.path.is_file() and store.path.name == "jangteo.db"


def test_migrations_build_exactly_the_declared_tables(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        conn.rollback()
    assert diff == []


def test_reopening_keeps_data_and_continues_numbering(tmp_path, clock):
    data = tmp_path / "reopen"
    for expected in ("A01-20261121-0001", "A01-20261121-0002"):
        with Store(data, clock=clock) as st:
            with st.unit_of_work() as uow:
                if not s.list_enterprises(uow):
                    eid = s.add_enterprise(uow, name="공방")
                    s.add_product(uow, name="비누", price=3000, enterprise_id=eid)
                pid = s.list_products(uow)[0]["id"]
                in_shift(uow)
                doc = s.record_sale(uow, items=[s.SaleItem(pid)], tenders=[Tender("cash", 3000)])
                uow.commit()
            assert doc.receipt_no == expected
            assert st.migration_backup is None  # nothing to migrate: no backup needed


HOLDER = textwrap.dedent("""
    import sys
    from pos.store import Store
    st = Store(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    st.close()
""")


def test_a_second_process_on_the_same_data_directory_is_refused(tmp_path):
    data = tmp_path / "shared"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError) as e:
            Store(data)
        assert e.value.code == "already_running"
        assert str(holder.pid) in error_text(e.value, "en")
        assert "already running" in error_text(e.value, "en")
        assert "이미" in error_text(e.value, "ko")
        cli = subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", str(data),
                              "--lang", "en", "shift", "open", "--float", "0"], cwd=ROOT,
                             capture_output=True, text=True)
        assert cli.returncode == 3
        assert "already running on this data folder" in cli.stderr
        # a command that only reads works beside the running till, on the file read-only
        cli = subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", str(data),
                              "--lang", "en", "check"], cwd=ROOT, capture_output=True, text=True)
        assert cli.returncode == 0, cli.stderr
        assert "All good" in cli.stdout
    finally:
        holder.communicate("\n", timeout=30)
    with Store(data):  # released when the first one ends
        pass


def test_a_damaged_file_is_refused_with_a_clear_message(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "jangteo.db").write_bytes(b"SQLite format 3\x00" + b"\x13" * 4096)
    with pytest.raises(StoreError) as e:
        Store(data)
    assert e.value.code == "corrupt"
    assert "backups" in error_text(e.value, "en")
    # the lock was released: a repaired directory opens
    (data / "jangteo.db").unlink()
    with Store(data):
        pass


def test_a_read_only_database_says_so_and_keeps_what_was_there(tmp_path, clock):
    data = tmp_path / "ro"
    with Store(data, clock=clock) as st:
        with st.unit_of_work() as uow:
            eid = s.add_enterprise(uow, name="공방")
            uow.commit()
    st = Store(data, clock=clock)
    try:
        # the open database turns read-only under the till, as on a failing USB stick (a file
        # mode would not do: the tests may run as root, who ignores it)
        st.engine.dispose()
        from sqlalchemy import create_engine, event

        ro_engine = create_engine(f"sqlite:///file:{st.path}?mode=ro&uri=true")

        @event.listens_for(ro_engine, "connect")
        def _c(dbapi_conn, _):
            dbapi_conn.isolation_level = None

        @event.listens_for(ro_engine, "begin")
        def _b(conn):
            conn.exec_driver_sql("BEGIN")

        st.engine = ro_engine
        with pytest.raises(StoreError) as e:
            with st.unit_of_work() as uow:
                s.add_product(uow, name="비누", price=3000, enterprise_id=eid)
                uow.commit()
        assert e.value.code == "read_only"
        assert "read-only" in error_text(e.value, "en")
        with st.unit_of_work(write=False) as uow:
            assert [x["name"] for x in s.list_enterprises(uow)] == ["공방"]
    finally:
        st.close()


def gunzipped(path, tmp_path):
    import gzip
    import shutil

    dest = tmp_path / "unpacked.db"
    with gzip.open(path, "rb") as fin, open(dest, "wb") as out:
        shutil.copyfileobj(fin, out)
    return dest


def test_backup_is_a_consistent_copy(store, stall, clock, tmp_path):
    """What `migrate` calls; the rest of backups is in test_backups.py."""
    with store.unit_of_work() as uow:
        in_shift(uow)
        s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        uow.commit()
    copy = backup(store.path, tmp_path / "backups", "test", clock.now())
    assert copy.name.endswith("-test.db.gz")
    con = sqlite3.connect(gunzipped(copy, tmp_path))
    assert con.execute("SELECT COUNT(*) FROM sales").fetchone() == (1,)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def test_data_directory_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JANGTEO_DATA_DIR", str(tmp_path / "env"))
    assert default_data_dir() == tmp_path / "env"
    monkeypatch.delenv("JANGTEO_DATA_DIR")
    assert "jangteo" in str(default_data_dir()).lower()


def test_a_full_disk_says_so_and_loses_nothing(store, stall):
    from sqlalchemy import event

    with store.unit_of_work() as uow:
        in_shift(uow)
        s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        uow.commit()
        pages = uow.conn.exec_driver_sql("PRAGMA page_count").scalar()

    # the fault injector: SQLite reports SQLITE_FULL once the file may not grow any more
    @event.listens_for(store.engine, "connect")
    def _cap(dbapi_conn, _):
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    store.engine.dispose()
    big = [s.SaleItem(stall.soap, 1, unit_price=n) for n in range(1, 400)]
    with pytest.raises(StoreError) as e:
        for _ in range(50):
            with store.unit_of_work() as uow:
                in_shift(uow)
                s.record_sale(uow, items=big, tenders=[Tender("cash", 10**6)])
                uow.commit()
    assert e.value.code == "disk_full"
    assert "disk is full" in error_text(e.value, "en") and "디스크" in error_text(e.value, "ko")
    event.remove(store.engine, "connect", _cap)
    store.engine.dispose()
    with store.unit_of_work(write=False) as uow:
        from pos.services.check import run_checks

        assert run_checks(uow) == []
        assert uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar() >= 1


def test_an_older_database_is_backed_up_before_migrating(tmp_path, clock, monkeypatch):
    import shutil

    import pos.store as store_module

    data = tmp_path / "old"
    with Store(data, clock=clock) as st:
        with st.unit_of_work() as uow:
            s.add_enterprise(uow, name="옛날공방")
            uow.commit()
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(store_module.MIGRATIONS)).get_current_head()
    newer = tmp_path / "migrations"
    shutil.copytree(store_module.MIGRATIONS, newer)
    (newer / "versions" / "9999_test_index.py").write_text(textwrap.dedent(f'''
        from alembic import op
        revision = "9999"
        down_revision = "{head}"
        branch_labels = None
        depends_on = None
        def upgrade():
            op.create_index("ix_test_enterprise_phone", "enterprises", ["phone"])
        def downgrade():
            op.drop_index("ix_test_enterprise_phone", "enterprises")
    '''))
    monkeypatch.setattr(store_module, "MIGRATIONS", newer)
    with Store(data, clock=clock) as st:
        assert st.migration_backup is not None
    copy = sqlite3.connect(gunzipped(st.migration_backup, tmp_path))
    assert copy.execute("SELECT name FROM enterprises").fetchall() == [("옛날공방",)]
    assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
    copy.close()
    assert "before-9999" in st.migration_backup

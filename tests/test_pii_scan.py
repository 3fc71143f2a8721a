"""The shared marts file holds no raw CCCD, phone number or population name: every column of every table is scanned
on the real pipeline output, and the scan is shown to catch each kind of leak."""

import shutil

import duckdb
import pytest

from ingestion import build_state
from ingestion.lake import Lake
from sharing.config import ColumnRule, load_config
from sharing.pii_scan import Needles, needles_from_file, scan
from sharing.shared_file import PersonalDataLeak, build_shared_file
from tests.sharing_run import population_needles, shared_refresh  # noqa: F401 (fixture)


def test_shared_file_has_no_personal_data(shared_refresh):
    lake, result, _ = shared_refresh
    needles = population_needles(lake)
    assert len(needles.names) > 100 and len(needles.cccds) > 250 and len(needles.phones) > 200
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:
        tables = con.execute("select count(*) from duckdb_tables() where not internal").fetchall()[0][0]
        columns = con.execute(
            "select count(*) from duckdb_columns() where not internal and database_name = current_database()"
        ).fetchall()[0][0]
        report = scan(con, needles)
    print("\n" + report.summary())
    print("columns scanned: " + ", ".join(f"{c.table}.{c.column}" for c in report.columns))
    assert len(report.tables) == tables >= 7
    assert len(report.columns) == columns
    assert report.values_scanned > 10_000
    assert report.hits == [], report.summary()


def test_scan_catches_each_kind_of_leak():
    needles = Needles.of(names=["Nguyễn Văn Hùng"], cccds=["019203123456"], phones=["0912345678"])
    with duckdb.connect() as con:
        con.execute("""create table leaks as select * from (values
            ('cccd alone',          '019203123456',                        null::bigint),
            ('cccd in text',        'Người nộp: 019203123456.',           null),
            ('mobile +84 spaced',   'gọi +84 912 345 678',                 null),
            ('landline',            '02083855123',                         null),
            ('name in text',        'Phản ánh của NGUYỄN VĂN HÙNG, xã Tân Cương', null),
            ('cccd as a number',    null,                                  19203123456),
            ('phone as a number',   null,                                  912345678)
        ) as t(kind, text_value, number_value)""")
        con.execute("""create table clean as select * from (values
            ('3f0b019203123456af90c1d2e3f4a5b6', '098*****78', 'Phường Hoàng Văn Thụ', 120000000000,
             462843.0835731833::double)
        ) as t(pseudonym, masked_phone, ward, capital_vnd, avg_cost_vnd)""")
        report = scan(con, needles)
    hits = {c.column: c.hits for c in report.hits if c.table == "main.leaks"}
    assert hits["text_value"] == {"cccd": 2, "phone": 2, "known_id": 1, "name": 1}
    assert hits["number_value"] == {"known_id": 2}
    assert not [c for c in report.hits if c.table == "main.clean"], report.summary()


def test_leaks_in_a_column_of_few_values_are_counted_per_row():
    """Codes and statuses repeat over millions of rows, so the scan searches each distinct value once: the counts
    must still be rows, as a per-row scan gives them."""
    needles = Needles.of(names=["Nguyễn Văn Hùng"], cccds=["019203123456"], phones=["0912345678"])
    with duckdb.connect() as con:
        con.execute("""create table dossiers as select i as dossier_no,
                case when i % 1000 = 0 then '019203123456' when i % 1000 = 1 then 'gọi 0912345678'
                     when i % 1000 = 2 then 'Nguyễn Văn Hùng' else ['in_progress', 'resolved'][i % 2 + 1] end as status
            from range(20000) t(i)""")
        report = scan(con, needles)
    [status] = [c for c in report.columns if c.column == "status"]
    assert status.values == 20_000
    assert status.hits == {"cccd": 20, "phone": 20, "known_id": 20, "name": 1}  # names: per distinct value


def test_amounts_that_equal_a_phone_number_by_chance_are_not_identifiers():
    """At province scale (1.8 M phones) a few charter capitals equal a phone number without its 0; a column of
    numbers is a column of identifiers only when a real share of it matches."""
    phones = [f"09{n:08d}" for n in range(0, 2_000_000, 7)]
    needles = Needles.of(cccds=["019203123456"], phones=phones)
    with duckdb.connect() as con:
        con.execute(
            "create table enterprises as select i as enterprise_no, "
            "case when i < 6 then 900000000 + i * 7 else 1000000 * i end as capital_vnd, "
            "case when i < 300 then 900000000 + i * 7 else 1000000 * i end as phone_as_number "
            "from range(10000) t(i)"
        )
        report = scan(con, needles)
    hits = {c.column: c.hits for c in report.hits}
    assert "capital_vnd" not in hits  # 6 of 10,000
    assert hits["phone_as_number"]["known_id"] >= 300  # 3 %: identifiers stored as numbers


def test_needles_are_read_once_per_warehouse_version(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema conformed")
        con.execute(
            "create table conformed.dim_citizen as select 'Nguyễn Văn Hùng' as full_name, '019203123456' as cccd, "
            "'0912345678' as phone"
        )
    first = needles_from_file(warehouse)
    assert needles_from_file(warehouse) is first
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into conformed.dim_citizen values ('Trần Thị Mai', '019203654321', '0987654321')")
    again = needles_from_file(warehouse)
    assert set(again.names) == {"nguyễn văn hùng", "trần thị mai"}
    assert len(again) == 2 + 4  # the identifiers stay in the warehouse: counted, not read
    with duckdb.connect() as con:  # the scan reads them there, also without their leading zero
        con.execute("create table exported as select * from (values ('19203654321'), ('hồ sơ 12')) v(note)")
        assert [c.hits for c in scan(con, again).hits] == [{"known_id": 1}]


def test_a_leaking_table_is_never_published(shared_refresh, tmp_path):
    """Keeping full names in the config makes the build refuse; the previous shared file stays as it was."""
    source, _, key = shared_refresh
    lake = Lake(tmp_path)
    shutil.copy(source.warehouse, lake.warehouse)
    build_shared_file(lake, load_config(), key)
    before = lake.shared_marts.read_bytes()
    config = load_config()
    leaky = [t for t in config.tables if t.name == "records.citizens"][0]
    leaky.columns["full_name"] = ColumnRule("keep")
    with pytest.raises(PersonalDataLeak, match=r"records\.citizens\.full_name: \{'name'"):
        build_shared_file(lake, config, key)
    assert lake.shared_marts.read_bytes() == before
    # no leftovers; the build state still describes the published file (the refused build recorded nothing)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "build_state.duckdb",
        "shared_marts.duckdb",
        "warehouse.duckdb",
    ]
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:
        published_at = con.execute("select max(built_at) from sharing.tables").fetchone()[0]
    assert build_state.read(lake, "shared.pii_scan").built_at == published_at

"""The citizen chain (int_citizen_source_records → int_citizen_survivorship → dim_citizen → dim_citizen_conflicts,
and the snap_citizen snapshot) is incremental on the CCCD: a refresh rebuilds only the citizens its new extracts
touch, and what it leaves is what a full build gives. The shared file's record tables follow it the same way."""

import shutil
from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake

from ingestion import build_state
from ingestion.lake import Lake
from orchestration.run_pipeline import run_refresh
from sharing.config import load_config
from sharing.pseudonym import pseudonym
from sharing.shared_file import PersonalDataLeak, build_shared_file
from tests.handmade_silver import dbt
from tests.pipeline_run import land_registry_update, refreshed_lake

CHAIN = (
    "intermediate.int_citizen_source_records",
    "intermediate.int_citizen_survivorship",
    "conformed.dim_citizen",
    "conformed.dim_citizen_conflicts",
)
SELECT_CHAIN = [
    "--select",
    "int_citizen_source_records",
    "int_citizen_survivorship",
    "dim_citizen",
    "dim_citizen_conflicts",
]
NEWCOMER = "001099012345"  # a CCCD no department has sent before
OTHER_SEX = pl.when(pl.col("sex") == "Nam").then(pl.lit("Nữ")).otherwise(pl.lit("Nam"))


def _query(lake: Lake, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def _chain(lake: Lake) -> dict[str, pl.DataFrame]:
    """Each chain table's rows, sorted on everything but built_at."""
    return {t: _query(lake, f"select * from {t}").sort(pl.all().exclude("built_at")) for t in CHAIN}


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("built_at")


def _rebuilt_in_last_run(frame: pl.DataFrame) -> set[str]:
    return set(frame.filter(pl.col("built_at") == pl.col("built_at").max())["cccd"])


def _assert_same_rows(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    for table in CHAIN:
        assert _rows(left[table]).equals(_rows(right[table])), table


def _land_second_day(lake: Lake) -> dict[str, str]:
    """A registry update moving one citizen (and recording the sex their CCCD digits contradict: a conflict), and
    dossiers of another registered citizen and of a newcomer."""
    registry = pl.read_delta(str(lake.silver("citizens"))).sort("cccd")
    mover = registry.filter(pl.col("commune_code") != "05443").row(0, named=True)
    applicant = registry.filter(pl.col("cccd") != mover["cccd"]).row(3, named=True)["cccd"]
    land_registry_update(
        lake, mover, "citizens_update.xlsx", pl.lit("05443").alias("commune_code"), OTHER_SEX.alias("sex")
    )
    dossier = pl.read_csv(sorted((lake.landing / "dossiers").glob("*.csv"))[-1], infer_schema_length=0)
    dossier = dossier.filter(pl.col("Ngày tiếp nhận").is_not_null()).head(2)
    dossier.with_columns(
        pl.Series("Mã hồ sơ", ["NEXT-1", "NEXT-2"]),
        pl.Series("Số CCCD người nộp", [applicant, NEWCOMER]),
        pl.lit("05482").alias("Mã xã"),
    ).write_csv(lake.landing / "dossiers" / "dossiers_next.csv")
    return {"mover": mover["cccd"], "applicant": applicant, "newcomer": NEWCOMER}


@pytest.fixture(scope="module")
def refreshed_twice(tmp_path_factory):
    root = tmp_path_factory.mktemp("citizen_incremental")
    with refreshed_lake(root) as (lake, instance, first):
        assert first.success
        before = _chain(lake)
        touched = _land_second_day(lake)
        assert run_refresh(instance).success  # TN_LAKE_DIR is still this lake's inside refreshed_lake
        yield lake, root, before, _chain(lake), touched


def test_second_refresh_rebuilds_only_the_citizens_it_touched(refreshed_twice):
    lake, _, before, after, touched = refreshed_twice
    assert _rebuilt_in_last_run(after[CHAIN[0]]) == set(touched.values())
    for table in CHAIN[1:3]:
        # a recomputed citizen whose values came out the same keeps its row and build time
        changed = set(
            _rows(after[table]).join(
                _rows(before[table]), how="anti", on=_rows(after[table]).columns, nulls_equal=True
            )["cccd"]
        )
        assert {touched["mover"], NEWCOMER} <= changed <= set(touched.values()), table
        assert _rebuilt_in_last_run(after[table]) == changed, table
    assert touched["applicant"] not in changed  # the registry's values win over a new dossier's
    for table in CHAIN:
        untouched = pl.col("cccd").is_in(list(touched.values())).not_()
        # everyone else's rows were left as they were, build time included
        assert after[table].filter(untouched).equals(before[table].filter(untouched)), table
    citizens = after["conformed.dim_citizen"]
    assert citizens.filter(pl.col("cccd") == touched["mover"])["current_commune_code"].to_list() == ["05443"]
    newcomer = citizens.filter(pl.col("cccd") == NEWCOMER).row(0, named=True)
    assert newcomer["sources"] == ["dossiers"] and newcomer["current_commune_code"] == "05482"
    assert not newcomer["in_population_registry"]
    conflicts = after["conformed.dim_citizen_conflicts"]
    assert conflicts.filter(pl.col("cccd") == touched["mover"])["attribute"].to_list() == ["sex_vs_cccd_digits"]

    # The snapshot compared the rebuilt citizens only, and still holds every citizen's current values.
    versions = _query(lake, "select cccd, count(*) as n from history.snap_citizen group by cccd")
    assert versions.filter(pl.col("n") > 1)["cccd"].to_list() == [touched["mover"]]
    current = _query(
        lake,
        "select cccd, current_commune_code, full_name, phone from history.snap_citizen "
        "where valid_to is null order by cccd",
    )
    assert current.equals(citizens.select(current.columns).sort("cccd"))


def _shared(path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).pl()


def _records(path) -> dict[str, pl.DataFrame]:
    return {t: _shared(path, f"select * from {t} order by all") for t in ("records.citizens", "records.dossiers")}


def _copied(outcome) -> dict[str, tuple[str, str]]:
    return {t.name: (t.copy.mode, t.copy.reason) for t in outcome.tables if t.name.startswith("records.")}


def test_shared_records_follow_the_second_refresh_incrementally(refreshed_twice, tmp_path, pseudonym_key):
    lake, _, _, _, touched = refreshed_twice
    key = pseudonym_key.encode()
    # The second refresh updated both record tables in place (their last whole build is the first refresh's), and
    # left the rows a whole build gives.
    for table in ("records.citizens", "records.dossiers"):
        state = build_state.read(lake, f"shared.{table}")
        built_at = _shared(lake.shared_marts, "select max(built_at) from sharing.tables")[0, 0]
        assert state.whole_build_at < state.built_at == built_at, table
    fresh = Lake(tmp_path / "fresh")
    fresh.root.mkdir()
    shutil.copy(lake.warehouse, fresh.warehouse)
    shutil.copy(lake.build_state, fresh.build_state)  # what dbt recorded of the warehouse's models
    whole = build_shared_file(fresh, load_config(), key)
    assert {mode for mode, _ in _copied(whole).values()} == {"whole"}
    incremental = _records(lake.shared_marts)
    for table, rows in _records(fresh.shared_marts).items():
        assert rows.equals(incremental[table]), table

    # Updating the same file again writes no record, and drops what the build did not write (the file holds exactly
    # what a new one would).
    size = fresh.shared_marts.stat().st_size
    with duckdb.connect(str(fresh.shared_marts)) as con:
        con.execute("create view records.scratch_view as select 1 as x; create table main.scratch as select 1 as y")
    again = build_shared_file(fresh, load_config(), key)
    assert _shared(fresh.shared_marts, "select count(*) from duckdb_views() where not internal")[0, 0] == 0
    assert "main.scratch" not in set(
        _shared(fresh.shared_marts, "select schema_name || '.' || table_name as t from duckdb_tables()")["t"]
    )
    assert {name: mode for name, (mode, _) in _copied(again).items()} == {
        "records.citizens": "incremental",
        "records.dossiers": "incremental",
    }
    assert all(t.copy.rows_written == 0 for t in again.tables if t.name.startswith("records."))

    # What an old row depends on besides its ingest time changed (a commune's code remapped, or silver rewritten: dbt
    # rebuilt int_dossiers whole, tests/test_marts_incremental.py; here its rows and its build state's row, as
    # record_build writes them): whole, in a new file (not beside the freed pages of the old tables: the size of a
    # fresh build).
    with duckdb.connect(str(fresh.warehouse)) as con:
        con.execute("update intermediate.int_dossiers set current_commune_code = '99999' where commune_code = '05482'")
    dossiers = build_state.read(fresh, "intermediate.int_dossiers")
    build_state.record(
        fresh,
        "intermediate.int_dossiers",
        built_from=None,
        fingerprint="remapped",
        watermark=dossiers.watermark,
        whole=True,
    )
    remapped = build_shared_file(fresh, load_config(), key)
    assert _copied(remapped)["records.dossiers"][0] == "whole"
    assert "what the source reads changed" in _copied(remapped)["records.dossiers"][1]
    moved = _shared(fresh.shared_marts, "select count(*) from records.dossiers where current_commune_code = '99999'")
    assert moved[0, 0] >= 1
    assert fresh.shared_marts.stat().st_size < size * 1.1

    # A row deleted at the source (nothing newer by time) is noticed by the row count: rebuilt whole without it.
    with duckdb.connect(str(fresh.warehouse)) as con:
        con.execute(f"delete from conformed.dim_citizen where cccd = '{touched['newcomer']}'")
    deleted = build_shared_file(fresh, load_config(), key)
    assert "row count differs" in _copied(deleted)["records.citizens"][1]
    assert pseudonym(touched["newcomer"], "cccd", key) not in set(
        _shared(fresh.shared_marts, "select citizen_key from records.citizens")["citizen_key"]
    )

    # A damaged published file is not updated: a fresh one replaces it.
    fresh.shared_marts.write_bytes(b"not a DuckDB file")
    damaged = build_shared_file(fresh, load_config(), key)
    assert "could not be updated" in _copied(damaged)["records.citizens"][1]
    citizens = next(t.rows for t in deleted.tables if t.name == "records.citizens")
    assert _shared(fresh.shared_marts, "select count(*) from records.citizens")[0, 0] == citizens


def test_the_scan_checks_old_rows_against_new_needles_only(refreshed_twice, tmp_path, pseudonym_key):
    """Rows a build writes are scanned against every needle; rows kept from the published file, only against the
    population's names and numbers changed since it was scanned (one that turns up in an old row is still caught)."""
    lake, key = refreshed_twice[0], pseudonym_key.encode()
    scanned = build_state.read(lake, "shared.pii_scan")  # the second refresh's scan
    assert "old rows of records.citizens, records.dossiers against needles changed since" in scanned.built_from
    fresh = Lake(tmp_path / "fresh")
    fresh.root.mkdir()
    shutil.copy(lake.warehouse, fresh.warehouse)
    shutil.copy(lake.build_state, fresh.build_state)  # what dbt recorded of the warehouse's models
    assert build_shared_file(fresh, load_config(), key).scan.tables_in_part == 0  # a new file: every row
    assert "every row against every needle" in build_state.read(fresh, "shared.pii_scan").built_from
    newcomer = "Lò Thị Mới Đăng Ký"  # nobody in the population has this name yet
    with duckdb.connect(str(fresh.shared_marts)) as con:
        con.execute(f"update records.dossiers set status = '{newcomer}' where dossier_id = 'NEXT-1'")
    again = build_shared_file(fresh, load_config(), key)
    assert again.scan.tables_in_part == 2 and not again.scan.hits  # not a population name: no hit
    with duckdb.connect(str(fresh.warehouse)) as con:  # a row this build writes is checked against every needle
        [name] = con.execute(
            "select full_name from conformed.dim_citizen where full_name like '% %' limit 1"
        ).fetchone()
        con.execute(
            "insert into intermediate.int_dossiers by name select * replace ('NEXT-3' as dossier_id, ? as status, "
            "now() as ingested_at) from intermediate.int_dossiers where dossier_id = 'NEXT-2'",
            [name],
        )
    with pytest.raises(PersonalDataLeak) as leak:
        build_shared_file(fresh, load_config(), key)
    assert "records.dossiers.status: {'name': 1}" in str(leak.value) and name not in str(leak.value)
    with duckdb.connect(str(fresh.warehouse)) as con:
        con.execute("delete from intermediate.int_dossiers where dossier_id = 'NEXT-3'")
    with duckdb.connect(str(fresh.warehouse)) as con:
        con.execute(
            "insert into conformed.dim_citizen by name select '001099077777' as cccd, ? as full_name, "
            "now() as built_at",
            [newcomer],
        )
    with pytest.raises(PersonalDataLeak) as leak:  # the old row holds a name that is new to the population
        build_shared_file(fresh, load_config(), key)
    assert "records.dossiers.status: {'name': 1}" in str(leak.value) and newcomer not in str(leak.value)


def test_incremental_runs_equal_full_builds(refreshed_twice):
    lake, root, _, incremental, touched = refreshed_twice
    target = root / "dbt_target"
    dbt(lake, target, "run", "--full-refresh", *SELECT_CHAIN)
    _assert_same_rows(incremental, _chain(lake))

    # The registry corrects the mover's sex: their conflict is resolved, and its row is deleted, not left behind.
    citizens = DeltaTable(str(lake.silver("citizens")))
    correction = (
        pl.read_delta(str(lake.silver("citizens")))
        .filter(pl.col("cccd") == touched["mover"])
        .with_columns(OTHER_SEX.alias("sex"), pl.lit(datetime.now(UTC)).alias("_ingested_at"))
    )
    citizens.merge(
        correction.to_arrow(), predicate="t.cccd = s.cccd", source_alias="s", target_alias="t"
    ).when_matched_update_all().execute()
    dbt(lake, target, "run", *SELECT_CHAIN)
    corrected = _chain(lake)
    for table in CHAIN[:3]:
        assert _rebuilt_in_last_run(corrected[table]) == {touched["mover"]}, table
    assert touched["mover"] not in set(corrected["conformed.dim_citizen_conflicts"]["cccd"])

    # Silver written whole again (as a contract change does), ingest times unchanged: nothing is newer by time,
    # yet every citizen is recomputed, since the rewrite may have changed any row.
    social_insurance = pl.read_delta(str(lake.silver("social_insurance")))
    write_deltalake(str(lake.silver("social_insurance")), social_insurance.to_arrow(), mode="overwrite")
    dbt(lake, target, "run", *SELECT_CHAIN)
    rewritten = _chain(lake)
    for table in CHAIN[:3]:
        assert rewritten[table]["built_at"].n_unique() == 1
        assert rewritten[table]["built_at"][0] > corrected[table]["built_at"].max(), table
    _assert_same_rows(rewritten, corrected)
    dbt(lake, target, "run", "--full-refresh", *SELECT_CHAIN)
    _assert_same_rows(rewritten, _chain(lake))

    # A warehouse built before the chain was incremental (plain tables, no built_at or ingested_at, no build in the
    # state store): the first run rebuilds it whole.
    with duckdb.connect(str(lake.warehouse)) as con:
        for table in CHAIN:
            con.execute(
                f"create or replace table {table} as select * exclude (built_at"
                f"{', ingested_at' if table.endswith('source_records') else ''}) from {table}"
            )
    with duckdb.connect(str(lake.root / "build_state.duckdb")) as con:
        con.execute("delete from builds where list_contains(?, object)", [list(CHAIN)])
    dbt(lake, target, "run", *SELECT_CHAIN)
    _assert_same_rows(_chain(lake), rewritten)

    # A silver row deleted in place (an erasure request), no newer ingest time anywhere: rebuilt whole, without it.
    erased = social_insurance["citizen_cccd"][0]
    built_before = _chain(lake)["intermediate.int_citizen_source_records"]["built_at"].max()
    DeltaTable(str(lake.silver("social_insurance"))).delete(f"citizen_cccd = '{erased}'")
    dbt(lake, target, "run", *SELECT_CHAIN)
    after_erasure = _chain(lake)
    records = after_erasure["intermediate.int_citizen_source_records"]
    assert records["built_at"].n_unique() == 1 and records["built_at"][0] > built_before
    assert records.filter((pl.col("cccd") == erased) & (pl.col("source") == "social_insurance")).is_empty()
    dbt(lake, target, "run", "--full-refresh", *SELECT_CHAIN)
    _assert_same_rows(after_erasure, _chain(lake))

"""Shared marts file, pseudonyms, suppression, open data and the analysts' query entry point, on a real refresh."""

import json
import os
import re
import shutil
import subprocess
import sys

import duckdb
import polars as pl
import pytest
from dagster import DagsterInstance, materialize

from ingestion.lake import PROJECT_ROOT, Lake
from orchestration.resources import LakeResource
from orchestration.shared_outputs import OPEN_DATA, SHARED_MARTS, shared_marts_file
from sharing.config import SharedTable, SharingConfig, SharingConfigError, Suppression, load_config
from sharing.pseudonym import KEY_VARIABLE, pseudonym
from sharing.shared_file import SUPPRESSED_FLAG, build_shared_file
from tests.sharing_run import shared_refresh  # noqa: F401 (fixture)

LAKE = {"lake_resource": LakeResource.from_env()}  # TN_LAKE_DIR read when the run starts

ON_TIME = "marts.mart_dossier_on_time_by_agency_month"


def _shared(lake: Lake, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:
        return con.sql(sql).pl()


def _warehouse(lake: Lake, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def _materialization(result, key):
    return next(e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key)


def test_refresh_builds_the_shared_file_and_open_data_after_the_gates(shared_refresh):
    lake, result, _ = shared_refresh
    metadata = _materialization(result, SHARED_MARTS).metadata
    assert metadata["pii_scan_hits"].value == 0
    check = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_check_key.to_user_string() == "shared/shared_marts:no_personal_data"
    )
    assert check.passed
    assert _materialization(result, OPEN_DATA) is not None
    tables = set(_shared(lake, "select table_name from sharing.tables")["table_name"])
    assert {ON_TIME, "conformed.dim_agency", "records.dossiers", "records.citizens"} <= tables
    # configured tables not in this warehouse (e.g. issue-4 marts before they land) are skipped, not fatal
    skipped = {s["table"] for s in metadata["skipped_tables"].value}
    configured = {t.name for t in load_config().tables}
    assert skipped == configured - tables
    # the shared copy of a mart is the warehouse's mart
    assert _shared(lake, f"select * from {ON_TIME} order by all").equals(
        _warehouse(lake, f"select * from {ON_TIME} order by all")
    )


def test_identifiers_are_hmac_pseudonyms_joinable_across_tables(shared_refresh):
    lake, _, key = shared_refresh
    raw = _warehouse(lake, "select dossier_id, applicant_cccd from staging.stg_dossiers")
    shared = _shared(lake, "select dossier_id, applicant_key from records.dossiers")
    assert "applicant_cccd" not in _shared(lake, "select * from records.dossiers limit 0").columns
    joined = raw.join(shared, on="dossier_id")
    assert joined.height == raw.height
    expected = [pseudonym(c, "cccd", key) for c in joined["applicant_cccd"]]
    assert joined["applicant_key"].to_list() == expected
    # the same person has the same pseudonym as applicant and as citizen (same domain, same key)
    linked = _shared(
        lake, "select count(*) as n from records.dossiers d join records.citizens c on c.citizen_key = d.applicant_key"
    )["n"][0]
    source = _shared(lake, "select source_table from sharing.tables where table_name = 'records.citizens'")[0, 0]
    citizens = set(_warehouse(lake, f"select cccd from {source}")["cccd"])
    assert linked == sum(c in citizens for c in raw["applicant_cccd"]) > 0


def test_phones_are_masked_names_dropped_birth_dates_generalised(shared_refresh):
    lake, _, key = shared_refresh
    source = _shared(lake, "select source_table from sharing.tables where table_name = 'records.citizens'")[0, 0]
    raw = _warehouse(lake, f"select cccd, phone, year(date_of_birth) as birth_year from {source}")
    shared = _shared(lake, "select * from records.citizens")
    assert not {"cccd", "full_name", "date_of_birth"} & set(shared.columns)
    raw = raw.with_columns(
        citizen_key=pl.col("cccd").map_elements(lambda c: pseudonym(c, "cccd", key), return_dtype=pl.String)
    )
    joined = raw.join(shared, on="citizen_key", suffix="_shared")
    assert joined.height == raw.height
    assert joined["birth_year"].to_list() == joined["birth_year_shared"].to_list()
    for phone, masked in joined.select("phone", "phone_shared").iter_rows():
        if phone is None:
            assert masked is None
        else:
            assert re.fullmatch(r"0\d{2}\*{5}\d{2}", masked) and masked[:3] == phone[:3] and masked[-2:] == phone[-2:]


def test_pseudonyms_are_stable_with_the_key_and_change_with_another(shared_refresh, tmp_path):
    source, _, key = shared_refresh
    lake = Lake(tmp_path)
    shutil.copy(source.warehouse, lake.warehouse)
    keys = lambda: set(_shared(lake, "select citizen_key from records.citizens")["citizen_key"])  # noqa: E731
    build_shared_file(lake, load_config(), key)
    again = keys()
    assert again == set(_shared(source, "select citizen_key from records.citizens")["citizen_key"])
    build_shared_file(lake, load_config(), b"another-key-of-at-least-32-characters!!")
    other = keys()
    assert len(other) == len(again) and not other & again


def test_the_asset_refuses_without_the_key(shared_refresh, monkeypatch):
    lake, _, _ = shared_refresh
    before = lake.shared_marts.stat().st_mtime_ns
    monkeypatch.setenv("TN_LAKE_DIR", str(lake.root))
    for value, message in (
        (None, f"{KEY_VARIABLE} is not set: refusing to build shared outputs"),
        ("short", f"{KEY_VARIABLE} is too short"),
    ):
        if value is None:
            monkeypatch.delenv(KEY_VARIABLE)
        else:
            monkeypatch.setenv(KEY_VARIABLE, value)
        with DagsterInstance.ephemeral() as instance:
            result = materialize([shared_marts_file], instance=instance, resources=LAKE, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert message in str(failure.step_failure_data.error)
    assert lake.shared_marts.stat().st_mtime_ns == before


def test_small_commune_cells_are_suppressed(shared_refresh, tmp_path):
    """A commune × month count table from the real dossiers: counts 1–4 at commune grain become null + flag."""
    source, _, key = shared_refresh
    lake = Lake(tmp_path)
    with duckdb.connect(str(lake.warehouse)) as con:
        con.execute(f"attach '{source.warehouse}' as src (read_only)")
        con.execute("create schema marts")
        con.execute("""create table marts.dossiers_by_commune as
            select if(commune_code like '0%', commune_code, null) as commune_code,
                   date_trunc('month', received_date)::date as month, count(*) as received_count,
                   count(*) filter (where status = 'resolved') as resolved_count,
                   count(*) filter (where status = 'resolved') / count(*) as resolved_share
            from src.staging.stg_dossiers group by all""")
    config = SharingConfig(
        (
            SharedTable(
                "marts.dossiers_by_commune",
                ("marts.dossiers_by_commune",),
                {},
                Suppression("commune_code is not null", ("received_count", "resolved_count"), ("resolved_share",)),
            ),
        ),
        5,
        {},
    )
    outcome = build_shared_file(lake, config, key)
    before = _warehouse(lake, "select * from marts.dossiers_by_commune")
    after = _shared(lake, "select * from marts.dossiers_by_commune")
    both = before.join(after, on=["commune_code", "month"], how="left", nulls_equal=True, suffix="_shared")
    assert both.height == before.height == after.height
    small = lambda c: pl.col(c).is_between(1, 4) & pl.col("commune_code").is_not_null()  # noqa: E731
    flagged = both.filter(small("received_count") | small("resolved_count"))
    assert flagged.height > 0 and outcome.tables[0].suppressed_rows == flagged.height
    assert flagged[SUPPRESSED_FLAG].all() and flagged["resolved_share_shared"].is_null().all()
    for column in ("received_count", "resolved_count"):
        assert both.filter(small(column))[f"{column}_shared"].is_null().all()
        kept = both.filter(~small(column))
        assert kept[column].to_list() == kept[f"{column}_shared"].to_list()
    assert not both.filter(~(small("received_count") | small("resolved_count")))[SUPPRESSED_FLAG].any()


def test_open_data_catalog_and_files(shared_refresh):
    lake, _, _ = shared_refresh
    catalog = json.loads((lake.open_data / "catalog.json").read_text(encoding="utf-8"))
    assert catalog["@type"] == "dcat:Catalog"
    entries = {d["dct:identifier"]: d for d in catalog["dcat:dataset"]}
    entry = entries["ho-so-dung-han-theo-co-quan-thang"]
    print("\n" + json.dumps(entry, ensure_ascii=False, indent=1))
    assert entry["@type"] == "dcat:Dataset"
    assert {t["@language"] for t in entry["dct:title"]} == {"vi", "en"}
    assert entry["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    assert entry["dct:accrualPeriodicity"]["@id"].endswith("/daily")
    assert entry["dct:modified"] and entry["dct:temporal"]["dcat:startDate"] <= entry["dct:temporal"]["dcat:endDate"]
    columns = {c["csvw:name"]: c["csvw:datatype"] for c in entry["csvw:tableSchema"]["csvw:column"]}
    assert columns == {
        "agency_code": "xsd:string",
        "agency_name": "xsd:string",
        "month": "xsd:date",
        "received_count": "xsd:integer",
        "resolved_count": "xsd:integer",
        "resolved_on_time_count": "xsd:integer",
        "on_time_rate": "xsd:decimal",
    }
    folder = lake.open_data / entry["dct:identifier"]
    assert (
        json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["dct:identifier"] == entry["dct:identifier"]
    )
    shared = _shared(lake, f"select * from {ON_TIME} order by agency_code, month")
    csv_text = (folder / f"{entry['dct:identifier']}.csv").read_bytes().decode("utf-8")  # UTF-8, no BOM
    assert "Sở" in csv_text or "UBND" in csv_text or any(ord(ch) > 127 for ch in csv_text)
    from_csv = pl.read_csv(folder / f"{entry['dct:identifier']}.csv", try_parse_dates=True).sort("agency_code", "month")
    from_parquet = pl.read_parquet(folder / f"{entry['dct:identifier']}.parquet").sort("agency_code", "month")
    assert from_csv.height == from_parquet.height == shared.height == entry["rows"]
    assert from_parquet.equals(shared)
    assert from_csv["received_count"].to_list() == shared["received_count"].to_list()
    assert from_csv["agency_name"].to_list() == shared["agency_name"].to_list()
    # records (pseudonymised person-level rows) are never open data
    assert not [d for d in catalog["dcat:dataset"] if d["dct:source"].startswith("records.")]


def _query(lake: Lake, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TN_LAKE_DIR": str(lake.root)}
    return subprocess.run(
        [sys.executable, "-m", "sharing.query", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_query_entry_point_is_read_only_and_cannot_reach_the_warehouse(shared_refresh):
    lake, _, _ = shared_refresh
    out = _query(lake, f"select count(*) as n from {ON_TIME}")
    assert out.returncode == 0, out.stderr
    assert str(_shared(lake, f"select count(*) as n from {ON_TIME}")["n"][0]) in out.stdout
    assert "records.citizens" in _query(lake, "--tables").stdout
    assert _query(lake, "create table marts.x as select 1").returncode == 2
    denied = _query(lake, f"attach '{lake.warehouse}' as w")
    assert denied.returncode == 2 and "disabled" in denied.stderr


def _readme_examples() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Analyst access", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def test_readme_example_questions_run_on_the_shared_file(shared_refresh):
    lake, _, _ = shared_refresh
    examples = _readme_examples()
    assert len(examples) >= 3
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:
        for sql in examples:
            assert con.sql(sql).pl().height > 0, sql


def test_an_incremental_entry_is_checked_when_the_config_loads(tmp_path):
    """`incremental` needs a key that stays in the shared table, and is for record tables, not suppressed aggregates."""
    for entry, message in (
        (
            "{from: conformed.dim_citizen, incremental: {unique_key: cccd, changed_since: built_at}, "
            "columns: {cccd: drop}}",
            "must be kept or pseudonymised",
        ),
        ("{incremental: {unique_key: k, changed_since: t}, suppress: {counts: [n]}}", "suppressed aggregates"),
        ("{incremental: {unique_key: k}}", "incremental must be"),
    ):
        path = tmp_path / "shared_marts.yaml"
        path.write_text(f"tables:\n  records.x: {entry}\n", encoding="utf-8")
        with pytest.raises(SharingConfigError, match=message):
            load_config(path)

"""Data-subject requests on the real pipeline (tiny sample): access export, restriction and erasure through their
Dagster jobs, then a second refresh that re-lands an old extract of the erased person."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable

from ingestion.catalog import load_catalog
from ingestion.lake import PROJECT_ROOT
from ingestion.silver import build_silver
from orchestration.definitions import build_defs
from orchestration.ingestion_assets import reconcile_bronze
from orchestration.run_pipeline import run_refresh
from privacy.lake_rows import identifying_columns
from privacy.requests import read_requests
from privacy.retention import expire_past_retention
from privacy.subject import subject_hash
from sharing.pseudonym import pseudonym
from tests.pipeline_run import land_registry_update, refreshed_lake

CCCD_SOURCES = {n: c for n, s in load_catalog().items() for c in identifying_columns(s) if "cccd" in c}


def _people(lake) -> pl.DataFrame:
    """Registered citizens with a phone and a name nobody else has, with the sources holding their CCCD."""
    held = pl.concat(
        pl.read_delta(str(lake.silver(name))).select(pl.col(column).alias("cccd"), source=pl.lit(name))
        for name, column in CCCD_SOURCES.items()
    ).unique()
    sources = held.group_by("cccd").agg(pl.col("source").sort())
    citizens = pl.read_delta(str(lake.silver("citizens")))
    unique_names = citizens.group_by("full_name").len().filter(pl.col("len") == 1)
    return (
        citizens.join(unique_names, on="full_name")
        .filter(pl.col("phone").is_not_null())
        .join(sources, on="cccd")
        .filter(pl.col("source").list.len() >= 4)
        .sort("cccd")
    )


def _file(kind: str, cccd: str) -> str:
    """The CLI, as an operator runs it: prints the request id."""
    done = subprocess.run(
        [sys.executable, "-m", "privacy.requests", "file", "--type", kind, "--cccd", cccd],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    return done.stdout.strip()


def _run(job: str, op: str, request_id: str, instance):
    result = (
        build_defs()
        .resolve_job_def(job)
        .execute_in_process(run_config={"ops": {op: {"config": {"request_id": request_id}}}}, instance=instance)
    )
    assert result.success
    return result


@pytest.fixture(scope="module")
def requests_run(tmp_path_factory):
    """One refresh; an access export of A, a restriction of R and an erasure of E through their jobs; then E's old
    registry extract re-landed and a second refresh."""
    with refreshed_lake(tmp_path_factory.mktemp("privacy")) as (lake, instance, first):
        assert first.success
        people = _people(lake)
        access, restricted, erased = (people.row(i, named=True) for i in (0, 1, 2))
        out = {"lake": lake, "access": access, "restricted": restricted, "erased": erased}
        out["access_id"] = _file("access", access["cccd"])
        _run("privacy_access_export", "export_personal_data", out["access_id"], instance)
        out["restrict_id"] = _file("restrict", restricted["cccd"])
        _run("privacy_restrict", "restrict_personal_data", out["restrict_id"], instance)
        out["erase_id"] = _file("erase", erased["cccd"])
        out["erase_run"] = _run("privacy_erase", "erase_personal_data", out["erase_id"], instance)
        out["after_erasure"] = _holdings(lake, _values(erased))
        citizen = pl.DataFrame([erased]).drop("source").row(0, named=True)
        land_registry_update(lake, citizen, "citizens_resent_old.xlsx")
        out["second"] = run_refresh(instance)
        yield out


def _values(person: dict) -> tuple[str, ...]:
    return (person["cccd"], person["phone"], person["full_name"])


def _text_hits(frame: pl.DataFrame, values: tuple[str, ...]) -> int:
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text or frame.is_empty():
        return 0
    found = pl.any_horizontal(pl.col(c).str.contains(v, literal=True) for c in text for v in values)
    return frame.filter(found.fill_null(False)).height


def _delta_tables(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("_delta_log") if p.is_dir())


def _duckdb_hits(path: Path, values: tuple[str, ...]) -> dict[str, int]:
    hits = {}
    with duckdb.connect(str(path), read_only=True) as con:
        relations = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() union "
            "select schema_name, view_name from duckdb_views() where database_name = current_database() "
            "and not internal"
        ).fetchall()
        for schema, name in relations:
            frame = con.sql(f'select * from "{schema}"."{name}"').pl()
            if n := _text_hits(frame.select(pl.col(pl.String)), values):
                hits[f"{schema}.{name}"] = n
    return hits


def _holdings(lake, values: tuple[str, ...]) -> dict[str, int]:
    """Where any of `values` still appears: every Delta table at every version its log still lists (a version whose
    files were vacuumed cannot be read, so cannot return them), the warehouse, the shared file, the quality files."""
    hits = {}
    for path in _delta_tables(lake.root):
        for commit in DeltaTable(str(path)).history():
            try:
                frame = pl.from_arrow(DeltaTable(str(path), version=commit["version"]).to_pyarrow_table())
            except OSError:
                continue  # its files are gone: time travel to it fails
            if n := _text_hits(frame, values):
                hits[f"{path.relative_to(lake.root)}@v{commit['version']}"] = n
    hits |= {f"warehouse:{k}": n for k, n in _duckdb_hits(lake.warehouse, values).items()}
    hits |= {f"shared:{k}": n for k, n in _duckdb_hits(lake.shared_marts, values).items()}
    for path in (lake.root / "quality").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html"):
            text = path.read_text(encoding="utf-8", errors="replace")
            spelled = {s for v in values for s in (v, json.dumps(v)[1:-1])}
            if any(s in text for s in spelled):
                hits[str(path.relative_to(lake.root))] = 1
    return hits


def test_access_export_lists_every_source_and_where_each_item_came_from(requests_run):
    lake, person = requests_run["lake"], requests_run["access"]
    folder = lake.root / "privacy" / "exports" / requests_run["access_id"]
    export = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    assert len(person["source"]) >= 4 and set(person["source"]) <= set(export["sources"])
    layers = {i["layer"] for i in export["items"]}
    assert {"bronze", "silver", "warehouse", "shared"} <= layers
    assert all(i["file"] and i["line"] for i in export["items"] if i["layer"] in ("bronze", "silver", "quarantine"))
    tables = {i["table"] for i in export["items"]}
    assert {"conformed.dim_citizen", "conformed.dim_citizen_history", "history.snap_citizen"} <= tables
    assert {"records.citizens", "records.dossiers"} <= tables
    summary = (folder / "tom_tat.md").read_text(encoding="utf-8")
    titles = {n: s.title for n, s in load_catalog().items()}
    assert all(titles[s] in summary for s in person["source"])
    assert read_requests(lake).filter(pl.col("request_id") == requests_run["access_id"])["status"].item() == "completed"


def test_erasure_leaves_nothing_in_any_table_version_shared_file_or_quality_artefact(requests_run):
    lake, person = requests_run["lake"], requests_run["erased"]
    assert requests_run["after_erasure"] == {}
    receipt_path = lake.root / "privacy" / "receipts" / f"{requests_run['erase_id']}.json"
    receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
    assert receipt["subject_hash"] == subject_hash(person["cccd"], os.environ["TN_PSEUDONYM_KEY"].encode())
    assert not any(v in receipt_path.read_text(encoding="utf-8") for v in _values(person))
    removed = {r["table"] for r in receipt["lake"]}
    assert {f"silver/{s}" for s in person["source"]} <= removed and {f"bronze/{s}" for s in person["source"]} <= removed
    assert receipt["scan_after"]["shared_file"]["person_hits"] == {} == receipt["scan_after"]["exports"]["person_hits"]
    assert receipt["shared_file"]["rebuilt"]


def test_after_erasure_marts_reconcile_and_a_resent_extract_does_not_bring_the_person_back(requests_run):
    lake, person, second = requests_run["lake"], requests_run["erased"], requests_run["second"]
    assert second.success
    checks = {e.asset_check_key.to_user_string(): e.passed for e in second.get_asset_check_evaluations()}
    failed = {k for k, passed in checks.items() if not passed}
    assert not {k for k in failed if "reconcile" in k or k.startswith("marts/")}, failed
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        mart = "marts.mart_dossier_on_time_by_agency_month"
        [(received,)] = con.execute(f"select sum(received_count) from {mart}").fetchall()
        [(silver_dossiers,)] = con.execute("select count(*) from silver.dossiers").fetchall()
    assert received == silver_dossiers
    assert _holdings(lake, _values(person)) == {}
    suppressed = pl.read_delta(str(lake.root / "privacy" / "suppressed_rows"))
    assert suppressed.select("source", "file", "rows").rows() == [("citizens", "citizens_resent_old.xlsx", 1)]


def test_restriction_keeps_the_person_out_of_shared_and_published_outputs_and_in_the_restricted_tier(requests_run):
    lake, person = requests_run["lake"], requests_run["restricted"]
    key = pseudonym(person["cccd"], "cccd", os.environ["TN_PSEUDONYM_KEY"].encode())
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:  # after the second refresh too
        count = lambda sql, *args: con.execute(sql, list(args)).fetchall()[0][0]  # noqa: E731
        assert count("select count(*) from records.citizens where citizen_key = ?", key) == 0
        assert count("select count(*) from records.dossiers where applicant_key = ?", key) == 0
        assert count("select count(*) from records.citizens") > 0
    assert _duckdb_hits(lake.shared_marts, _values(person)) == {}
    published = [*lake.published.rglob("*.parquet"), *lake.open_data.rglob("*.parquet")]
    assert published and all(_text_hits(pl.read_parquet(p), (key, *_values(person))) == 0 for p in published)
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        [(held,)] = con.execute(
            "select count(*) from conformed.dim_citizen where cccd = $1", [person["cccd"]]
        ).fetchall()
    assert held == 1
    assert pl.read_delta(str(lake.silver("citizens"))).filter(pl.col("cccd") == person["cccd"]).height == 1


def test_retention_removes_rows_past_it_and_the_counts_still_reconcile(requests_run):
    """Last: it changes the module's lake. Ten years after September 2026, the dossiers received before it leave."""
    lake = requests_run["lake"]
    dossiers = load_catalog()["dossiers"]
    before = pl.read_delta(str(lake.silver("dossiers")))
    outcomes = {e.source: e for e in expire_past_retention(lake, today=date(2036, 9, 1))}
    old = before.filter(pl.col("received_date") < date(2026, 9, 1)).height
    assert 0 < old < before.height and outcomes["dossiers"].silver_rows == old == outcomes["dossiers"].bronze_rows
    after = pl.read_delta(str(lake.silver("dossiers")))
    assert after.height == before.height - old and after["received_date"].min() >= date(2026, 9, 1)
    assert reconcile_bronze(dossiers, lake) == []
    paths = (lake.bronze("dossiers"), lake.silver("dossiers"), lake.quarantine, lake.ingestion_log)
    build = build_silver(dossiers, *paths)
    assert build.bronze_rows == build.silver_rows + build.quarantined_rows + build.superseded_rows

"""Weekly lake maintenance on a lake that received 30 daily extracts: every table's small files are compacted with
its rows unchanged, replaced files stay for time travel until the retention passes, and the warehouse's silver views
keep answering after vacuum deletes the files they used to name."""

from pathlib import Path

import duckdb
import polars as pl
from deltalake import DeltaTable

from ingestion import build_state
from ingestion.catalog import load_catalog
from ingestion.warehouse_sources import expose_silver
from orchestration.dbt_project import dbt_resource
from orchestration.lake_maintenance import lake_maintenance
from orchestration.resources import LakeResource
from tests.ingest_run import ingest

DOSSIERS = load_catalog()["dossiers"]
HEADER = (Path(__file__).parent / "fixtures" / "dossiers_2026-10-30.csv").read_text(encoding="utf-8").splitlines()[0]


def _land_and_ingest_daily(lake, days: int) -> None:
    """One extract a day, each ingested by its own run: one bronze and one silver commit (and file) per day."""
    folder = lake.landing / "dossiers"
    folder.mkdir(parents=True)
    for day in range(1, days + 1):
        rows = [
            f"H56.01-2611{day:02d}-{day * 100 + i:07d},1.004227,H56.01,05431,{day:02d}/11/2026,30/11/2026,,"
            f"Đang xử lý,019090{day * 100 + i:06d}"
            for i in range(5)
        ]
        (folder / f"dossiers_2026-11-{day:02d}.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        ingest(lake, DOSSIERS)


def _maintain(instance, **config):
    result = lake_maintenance.execute_in_process(
        instance=instance,
        run_config={"ops": {"maintain_lake_tables": {"config": config}}},
        resources={"lake_resource": LakeResource.from_env(), "dbt": dbt_resource()},
    )
    assert result.success  # the whole-table validation at the end passes too
    [output] = [
        e for e in result.all_events if e.event_type_value == "STEP_OUTPUT" and e.step_key == "maintain_lake_tables"
    ]
    tables = {row["table"]: row for row in result.output_for_node("maintain_lake_tables")}
    return tables, output.event_specific_data.metadata


def _rows(path) -> pl.DataFrame:
    return pl.read_delta(str(path)).sort("dossier_id", "_source_file")


def _parquet_files_on_disk(path) -> int:
    return sum(1 for _ in path.rglob("*.parquet"))


def _silver_rewrite(lake) -> str:
    return build_state.read(lake, "silver.dossiers").watermark


def test_compaction_keeps_rows_and_time_travel_then_vacuum_deletes_and_views_follow(lake, instance):
    _land_and_ingest_daily(lake, days=30)
    expose_silver(lake)
    rewrite_before = _silver_rewrite(lake)
    bronze_before, silver_before = _rows(lake.bronze("dossiers")), _rows(lake.silver("dossiers"))
    assert len(DeltaTable(str(lake.silver("dossiers"))).file_uris()) == 30

    tables, metadata = _maintain(instance, max_files=8)
    for name in ("bronze/dossiers", "silver/dossiers", "ingestion_log"):
        assert tables[name]["files_before"] >= 30 and tables[name]["files_after"] == 1, tables[name]
        assert tables[name]["files_vacuumed"] == 0  # a week's retention: replaced files stay
    assert metadata["files_after"].value < metadata["files_before"].value
    assert _rows(lake.bronze("dossiers")).equals(bronze_before) and _rows(lake.silver("dossiers")).equals(silver_before)
    assert pl.read_delta(str(lake.silver("dossiers")), version=0).height == 5  # day 1, from a replaced file

    tables, _ = _maintain(instance, max_files=8, retention_hours=0)
    assert tables["silver/dossiers"]["files_vacuumed"] == 30
    assert _parquet_files_on_disk(lake.silver("dossiers")) == 1 == _parquet_files_on_disk(lake.bronze("dossiers"))
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from silver.dossiers").fetchone()[0] == silver_before.height == 150
    # Compaction and vacuum change no row: silver's last rewrite in the build state, which readers going by ingest
    # time compare to decide a whole rebuild (ingestion/duckdb_delta.last_rewrite), stays as it was.
    assert _silver_rewrite(lake) == rewrite_before == "0"

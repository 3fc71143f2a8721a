"""The citizen chain (int_citizen_source_records → int_citizen_survivorship → dim_citizen) is incremental: a second
refresh rebuilds only the citizens its new extracts touch, and the result is the same as a full build's."""

import duckdb
import polars as pl
import pytest
from deltalake import write_deltalake

from ingestion.catalog import load_catalog
from ingestion.lake import Lake
from orchestration.run_pipeline import run_refresh
from tests.handmade_silver import dbt
from tests.pipeline_run import refreshed_lake

CHAIN = ("intermediate.int_citizen_source_records", "intermediate.int_citizen_survivorship", "conformed.dim_citizen")
NEWCOMER = "001099012345"  # a CCCD no department has sent before


def _chain(lake: Lake) -> dict[str, pl.DataFrame]:
    """Each chain table's rows (sorted, built_at aside) and, separately, built_at per CCCD."""
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        tables = {t: con.sql(f"select * from {t}").pl() for t in CHAIN}
    return {t: frame.sort(pl.all().exclude("built_at")) for t, frame in tables.items()}


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("built_at")


def _rebuilt_in_last_run(frame: pl.DataFrame) -> set[str]:
    return set(frame.filter(pl.col("built_at") == pl.col("built_at").max())["cccd"])


def _land_second_day(lake: Lake) -> dict[str, str]:
    """A registry update moving one citizen, and dossiers of another registered citizen and of a newcomer."""
    registry = pl.read_delta(str(lake.silver("citizens"))).sort("cccd")
    mover = registry.filter(pl.col("commune_code") != "05443").row(0, named=True)
    applicant = registry.filter(pl.col("cccd") != mover["cccd"]).row(3, named=True)["cccd"]
    header = {c.name: c.header for c in load_catalog()["citizens"].columns}
    (pl.DataFrame([mover]).select(list(header))
     .with_columns(pl.lit("05443").alias("commune_code"), pl.col("date_of_birth").dt.strftime("%d/%m/%Y"))
     .rename(header)
     .write_excel(lake.landing / "citizens" / "citizens_update.xlsx", worksheet="dan_cu", autofit=False))
    dossier = pl.read_csv(sorted((lake.landing / "dossiers").glob("*.csv"))[-1], infer_schema_length=0)
    dossier = dossier.filter(pl.col("Ngày tiếp nhận").is_not_null()).head(2)
    dossier.with_columns(pl.Series("Mã hồ sơ", ["NEXT-1", "NEXT-2"]),
                         pl.Series("Số CCCD người nộp", [applicant, NEWCOMER]),
                         pl.lit("05482").alias("Mã xã")).write_csv(lake.landing / "dossiers" / "dossiers_next.csv")
    return {"mover": mover["cccd"], "applicant": applicant, "newcomer": NEWCOMER}


@pytest.fixture(scope="module")
def refreshed_twice(tmp_path_factory):
    root = tmp_path_factory.mktemp("citizen_incremental")
    with refreshed_lake(root) as (lake, instance, first):
        assert first.success
        before = _chain(lake)
        touched = _land_second_day(lake)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TN_LAKE_DIR", str(lake.root))
            assert run_refresh(instance).success
        yield lake, root, before, _chain(lake), touched


def test_second_refresh_rebuilds_only_the_citizens_it_touched(refreshed_twice):
    _, _, before, after, touched = refreshed_twice
    for table in CHAIN:
        assert _rebuilt_in_last_run(after[table]) == set(touched.values()), table
        untouched = pl.col("cccd").is_in(list(touched.values())).not_()
        # everyone else's rows were left as they were, build time included
        assert after[table].filter(untouched).equals(before[table].filter(untouched)), table
    citizens = after["conformed.dim_citizen"]
    assert citizens.filter(pl.col("cccd") == touched["mover"])["current_commune_code"].to_list() == ["05443"]
    newcomer = after["conformed.dim_citizen"].filter(pl.col("cccd") == NEWCOMER).row(0, named=True)
    assert newcomer["sources"] == ["dossiers"] and newcomer["current_commune_code"] == "05482"
    assert not newcomer["in_population_registry"]


def test_incremental_chain_equals_a_full_build_and_a_silver_rewrite_rebuilds_it_whole(refreshed_twice):
    lake, root, _, incremental, _ = refreshed_twice
    select = ["--select", "int_citizen_source_records", "int_citizen_survivorship", "dim_citizen"]
    dbt(lake, root / "dbt_target", "run", "--full-refresh", *select)
    full = _chain(lake)
    for table in CHAIN:
        assert _rows(incremental[table]).equals(_rows(full[table])), table

    # Silver written whole again (as a contract change does), ingest times unchanged: nothing is newer by time,
    # yet every citizen is recomputed, since the rewrite may have changed any row.
    social_insurance = pl.read_delta(str(lake.silver("social_insurance")))
    write_deltalake(str(lake.silver("social_insurance")), social_insurance.to_arrow(), mode="overwrite")
    dbt(lake, root / "dbt_target", "run", *select)
    rewritten = _chain(lake)
    for table in CHAIN:
        assert rewritten[table]["built_at"].n_unique() == 1
        assert rewritten[table]["built_at"][0] > full[table]["built_at"].max(), table
        assert _rows(rewritten[table]).equals(_rows(full[table])), table

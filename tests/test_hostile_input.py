"""Hostile extracts (issue 22), on checked-in fixtures (tests/fixtures/hostile/, made by make_hostile.py): a bad line
among good ones, every wrong pairing of the legacy encodings, bytes no encoding defines, an oversized value,
duplicate keys, empty, header-only, binary and re-sent files. Each case: what lands, what is quarantined with which
line and reason, landed = bronze + quarantined per file, and a second run changes no count."""

import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from ingestion.catalog import load_catalog
from ingestion.encodings import detect
from ingestion.ingestion_log import read_log
from ingestion.landing_changes import changed_sources
from orchestration.ingestion_assets import reconcile_bronze
from tests.ingest_run import ingest

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
CATALOG = load_catalog()
FACILITY_NAMES = [
    "Bệnh viện Đa khoa Trung ương Thái Nguyên",
    "Trạm Y tế Phường Phan Đình Phùng",
    "Trung tâm Y tế huyện Đại Từ",
    "Phòng khám đa khoa khu vực Sông Công",
    "Trạm Y tế xã Tân Cương",
]


def land(lake, source_name: str, *names: str) -> None:
    folder = lake.landing / CATALOG[source_name].pattern.split("/")[0]
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(HOSTILE / name, folder / name)


def _table(location) -> pl.DataFrame | None:
    return pl.read_delta(str(location)) if DeltaTable.is_deltatable(str(location)) else None


def quarantine(lake, name: str) -> pl.DataFrame:
    return _table(lake.quarantine).filter(pl.col("source") == name).sort("source_file", "row_number")


def state(lake, source) -> tuple:
    """Everything a run leaves for one source, without the timestamps."""
    log = read_log(lake.ingestion_log, source.name).drop("ingested_at").sort("stage", "file")
    frames = [_table(lake.quarantine), _table(lake.bronze(source.name)), _table(lake.silver(source.name))]
    timeless = [None if f is None else f.drop("ingested_at", "_ingested_at", strict=False) for f in frames]
    return log.rows(), *[None if f is None else f.sort(pl.all()).rows() for f in timeless]


def ingest_twice(lake, source):
    """The first run's (load, build), after checking that landed = bronze + quarantined holds for every logged file
    and that a second run lands nothing, logs nothing and changes no table."""
    first = ingest(lake, source)
    log = read_log(lake.ingestion_log, source.name, "bronze")
    assert (log["landed_rows"] == log["bronze_rows"] + log["quarantined_rows"]).all()
    assert reconcile_bronze(source, lake) == []
    before = state(lake, source)
    load, build = ingest(lake, source)
    assert load.files_new == [] and load.files_failed == [] and load.rows_written == 0
    assert state(lake, source) == before
    assert not changed_sources(lake, {source.name: source})  # the nightly schedule stays quiet
    return first


def bronze_log(lake, name: str) -> dict[str, dict]:
    return {r["file"]: r for r in read_log(lake.ingestion_log, name, "bronze").iter_rows(named=True)}


# --- one bad line costs that line, not the file ----------------------------------------------------------------


def test_a_csv_line_with_an_extra_field_is_quarantined_with_its_line_and_the_rest_lands(lake):
    source = CATALOG["dossiers"]
    land(lake, "dossiers", "dossiers_2026-10-30_extra_field.csv")
    load, build = ingest_twice(lake, source)
    assert load.files_failed == []
    bronze = _table(lake.bronze("dossiers")).sort("_row_number")
    assert bronze["_row_number"].to_list() == [2, 3, 5]
    bad = quarantine(lake, "dossiers")
    assert bad.select("stage", "row_number", "reason").rows() == [
        ("line", 4, "a line of 10 fields where the header has 9 (a stray ',' or an unquoted value containing one)")
    ]
    assert "Phường Phan Đình Phùng" in bad["record"][0]
    log = bronze_log(lake, "dossiers")["dossiers_2026-10-30_extra_field.csv"]
    assert (log["status"], log["landed_rows"], log["bronze_rows"], log["quarantined_rows"]) == ("loaded", 4, 3, 1)
    assert build.silver_rows == 3 and build.bronze_rows == build.silver_rows + build.quarantined_rows


def test_a_broken_ndjson_line_is_quarantined_with_its_line_and_the_rest_lands(lake):
    source = CATALOG["enterprises"]
    land(lake, "enterprises", "enterprises_broken_line.ndjson")
    load, build = ingest_twice(lake, source)
    assert load.files_failed == []
    assert _table(lake.bronze("enterprises")).sort("_row_number")["_row_number"].to_list() == [1, 3]
    [bad] = quarantine(lake, "enterprises").rows(named=True)
    assert (bad["stage"], bad["row_number"]) == ("line", 2)
    assert bad["reason"].startswith("not valid JSON (") and "at character" in bad["reason"]
    assert _table(lake.silver("enterprises"))["tax_code"].sort().to_list() == ["4601234561", "4700000010"]


# --- encodings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "cp1258"])
def test_each_legacy_encoding_declared_right_lands_every_name(lake, encoding):
    land(lake, "health_facilities", f"health_facilities_{encoding}.csv")
    ingest(lake, replace(CATALOG["health_facilities"], encoding=encoding))
    assert _table(lake.silver("health_facilities")).sort("facility_code")["facility_name"].to_list() == FACILITY_NAMES


@pytest.mark.parametrize(
    "actual,declared",
    [(a, d) for a in ("tcvn3", "vni", "cp1258") for d in ("tcvn3", "vni", "cp1258") if a != d],
)
def test_a_wrongly_declared_legacy_encoding_quarantines_the_file_naming_both(lake, actual, declared):
    source = replace(CATALOG["health_facilities"], encoding=declared)
    fixture = f"health_facilities_{actual}.csv"
    land(lake, "health_facilities", fixture)
    load, build = ingest_twice(lake, source)
    [failed] = load.files_failed
    assert f"declared encoding {declared} reads" in failed["error"]
    assert f"{actual} reads 100%: the file is probably {actual}" in failed["error"]
    [whole] = quarantine(lake, "health_facilities").rows(named=True)
    assert (whole["stage"], whole["row_number"], whole["source_file"]) == ("read", None, fixture)
    assert _table(lake.bronze("health_facilities")) is None  # not one garbled name landed


def test_bytes_no_encoding_defines_get_a_reason_not_a_recursion_error(lake):
    data = (HOSTILE / "health_facilities_undefined_bytes.csv").read_bytes()
    assert detect(data) == "tcvn3"  # total: every byte string gets an answer
    land(lake, "health_facilities", "health_facilities_undefined_bytes.csv")
    load, build = ingest_twice(lake, replace(CATALOG["health_facilities"], encoding="vni"))
    [failed] = load.files_failed
    assert "cannot be read as csv: byte 0x81 at offset 88 is not a character in vni" in failed["error"]
    assert "no encoding reads it as Vietnamese (best tcvn3: " in failed["error"]


def test_a_sniffed_file_that_reads_as_no_encoding_is_quarantined_saying_so(lake):
    land(lake, "health_facilities", "health_facilities_undefined_bytes.csv")
    load, build = ingest_twice(lake, replace(CATALOG["health_facilities"], encoding="auto"))
    [failed] = load.files_failed
    assert "cannot be read as csv: no encoding reads it as Vietnamese (best tcvn3: " in failed["error"]


# --- size ----------------------------------------------------------------------------------------------------


def test_a_value_longer_than_max_length_is_quarantined_without_being_copied_whole(lake):
    source = CATALOG["enterprises"]
    assert source.column("enterprise_name").max_length == 4_000  # the default
    land(lake, "enterprises", "enterprises_oversized_name.ndjson")
    load, build = ingest_twice(lake, source)
    assert _table(lake.silver("enterprises"))["tax_code"].to_list() == ["4601234561"]
    [bad] = quarantine(lake, "enterprises").rows(named=True)
    assert (bad["stage"], bad["row_number"]) == ("contract", 2)
    assert bad["reason"] == "enterprise_name: a value of 5027 characters is longer than max_length 4,000"
    assert len(bad["record"]) < 4_400 and "Dược liệu Ba Bể" in bad["record"]
    assert build.reasons == {"enterprise_name: a value of 5027 characters is longer than max_length 4,000": 1}


def test_max_length_is_read_from_the_contract(tmp_path):
    text = (CATALOG["enterprises"].path).read_text(encoding="utf-8")
    text = text.replace("type: string, required: true}", "type: string, required: true, max_length: 200}", 1)
    (tmp_path / "enterprises.yaml").write_text(text, encoding="utf-8")
    assert load_catalog(tmp_path)["enterprises"].column("enterprise_name").max_length == 200
    (tmp_path / "enterprises.yaml").write_text(text.replace("max_length: 200", "max_length: 0"), encoding="utf-8")
    with pytest.raises(ValueError, match="max_length 0"):
        load_catalog(tmp_path)


# --- duplicate keys within one file ---------------------------------------------------------------------------


def test_an_append_source_quarantines_every_line_of_a_repeated_key(lake):
    source = CATALOG["dossiers"]
    assert source.duplicate_keys == "quarantine"
    land(lake, "dossiers", "dossiers_2026-10-30_duplicate_keys.csv")
    load, build = ingest_twice(lake, source)
    assert _table(lake.silver("dossiers"))["dossier_id"].to_list() == ["H56.01-261030-0000002"]
    assert quarantine(lake, "dossiers").select("row_number", "reason").rows() == [
        (2, "dossier_id: the same key on lines '2, 4' of this file"),
        (4, "dossier_id: the same key on lines '2, 4' of this file"),
    ]
    assert build.duplicate_keys == ["dossiers_2026-10-30_duplicate_keys.csv: key dossier_id repeated on lines 2, 4"]
    assert (build.bronze_rows, build.silver_rows, build.quarantined_rows, build.superseded_rows) == (3, 1, 2, 0)


def test_an_upsert_source_keeps_the_last_line_of_a_repeated_key_and_reports_both(lake):
    source = CATALOG["enterprises"]
    assert source.duplicate_keys == "keep_last"
    land(lake, "enterprises", "enterprises_duplicate_keys.ndjson")
    load, build = ingest_twice(lake, source)
    silver = _table(lake.silver("enterprises")).sort("tax_code")
    assert silver.select("tax_code", "status", "_row_number").rows() == [
        ("4601234561", "Tạm ngừng kinh doanh", 3),
        ("4601234579", "Đang hoạt động", 2),
    ]
    assert build.duplicate_keys == [
        "enterprises_duplicate_keys.ndjson: key tax_code repeated on lines 1, 3 (the last kept)"
    ]
    assert (build.bronze_rows, build.silver_rows, build.quarantined_rows, build.superseded_rows) == (3, 2, 0, 1)


# --- accounting: empty, header-only, binary and re-sent files -------------------------------------------------


def test_empty_header_only_binary_and_copied_files_get_one_log_row_each_with_counts_that_mean_rows(lake):
    source = CATALOG["dossiers"]
    names = [
        "dossiers_2026-10-26_empty.csv",
        "dossiers_2026-10-27_header_only.csv",
        "dossiers_2026-10-28_random_bytes.csv",
        "dossiers_2026-10-29.csv",
        "dossiers_2026-10-29_resent.csv",
    ]
    land(lake, "dossiers", *names)
    load, build = ingest_twice(lake, source)
    log = bronze_log(lake, "dossiers")
    assert sorted(log) == names  # exactly one row per file
    counts = {f: (r["status"], r["landed_rows"], r["bronze_rows"], r["quarantined_rows"]) for f, r in log.items()}
    assert counts == {
        "dossiers_2026-10-26_empty.csv": ("failed", 0, 0, 0),
        "dossiers_2026-10-27_header_only.csv": ("no_rows", 0, 0, 0),
        "dossiers_2026-10-28_random_bytes.csv": ("failed", 0, 0, 0),
        "dossiers_2026-10-29.csv": ("loaded", 2, 2, 0),
        "dossiers_2026-10-29_resent.csv": ("duplicate", 0, 0, 0),
    }
    assert log["dossiers_2026-10-26_empty.csv"]["error"].endswith("the file is empty (0 bytes): no header, no rows")
    assert "does not look like text" in log["dossiers_2026-10-28_random_bytes.csv"]["error"]
    assert log["dossiers_2026-10-29_resent.csv"]["error"] == "same content as dossiers_2026-10-29.csv"
    assert load.files_skipped == ["dossiers_2026-10-29_resent.csv"]
    assert quarantine(lake, "dossiers")["source_file"].to_list() == [
        "dossiers_2026-10-26_empty.csv",
        "dossiers_2026-10-28_random_bytes.csv",
    ]
    assert build.silver_rows == 2

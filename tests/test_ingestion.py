"""Ingestion at province breadth, on tiny checked-in fixtures: every format and encoding, quarantine and
reconciliation counts, idempotent re-runs, upsert merge, schema drift, a corrupt file next to good ones."""

import shutil
import unicodedata
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from ingestion.bronze import load_bronze
from ingestion.catalog import load_catalog
from ingestion.encodings import decode, detect, encode
from ingestion.extracts import match_headers, read_extract
from ingestion.ingestion_log import read_log
from tests.ingest_run import ingest

FIXTURES = Path(__file__).parent / "fixtures"
CATALOG = load_catalog()


def land(lake, source_name: str, *fixtures: str) -> None:
    """Copy fixture files into the source's landing folder."""
    folder = lake.landing / CATALOG[source_name].pattern.split("/")[0]
    folder.mkdir(parents=True, exist_ok=True)
    suffix = CATALOG[source_name].pattern.rsplit(".", 1)[-1]
    for name in fixtures:
        target = folder / (name if name.endswith(suffix) else f"{name}.{suffix}")
        shutil.copy(FIXTURES / name, target)


def silver(lake, name: str) -> pl.DataFrame:
    return pl.read_delta(str(lake.silver(name))).sort(CATALOG[name].primary_key)


def quarantine(lake, name: str) -> pl.DataFrame:
    return pl.read_delta(str(lake.quarantine)).filter(pl.col("source") == name)


def is_nfc(frame: pl.DataFrame) -> bool:
    return all(
        v is None or v == unicodedata.normalize("NFC", v)
        for c, t in frame.schema.items()
        if t == pl.String
        for v in frame[c]
    )


# --- encodings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "cp1258", "utf-16", "utf-8"])
def test_legacy_encodings_round_trip_and_are_detected(encoding):
    text = "Mã xã,Cây trồng,Diện tích\nđồi chè tân cương,rừng trồng,nguyễn thị hương\n"
    data = encode(text, encoding)
    assert decode(data, encoding) == text
    assert detect(data) == encoding


def test_tcvn3_bytes_follow_the_published_chart():
    # 'Bảo Thắng' in a TCVN3 (.VnTime) document: ả = 0xB6, ắ = 0xBE
    assert decode(b"B\xb6o Th\xbeng", "tcvn3") == "Bảo Thắng"
    # VNI writes a base letter then the mark: 'Nguyễn' = N g u y e + 0xE3 (ẽ-with-hat) + n
    assert decode(b"Nguye\xe3n", "vni") == "Nguyễn"


@pytest.mark.parametrize(
    "fixture,source_name,encoding",
    [
        ("health_facilities_cp1258.csv", "health_facilities", "cp1258"),
        ("agriculture_crops_tcvn3.csv", "agriculture_crops", "tcvn3"),
        ("health_visits_utf16.txt", "health_visits", "utf-16"),
        ("students_utf8_bom.csv", "students", "utf-8-sig"),
    ],
)
def test_each_text_encoding_reads_to_contract_columns_in_nfc(fixture, source_name, encoding):
    extract = read_extract(CATALOG[source_name], FIXTURES / fixture)
    assert extract.frame.columns == CATALOG[source_name].column_names
    assert is_nfc(extract.frame)
    assert detect((FIXTURES / fixture).read_bytes()) == encoding


def test_vni_file_reads_when_declared_or_detected():
    declared = read_extract(
        replace(CATALOG["agriculture_crops"], encoding="vni"), FIXTURES / "agriculture_crops_vni.csv"
    )
    sniffed = read_extract(
        replace(CATALOG["agriculture_crops"], encoding="auto"), FIXTURES / "agriculture_crops_vni.csv"
    )
    tcvn3 = read_extract(CATALOG["agriculture_crops"], FIXTURES / "agriculture_crops_tcvn3.csv")
    assert declared.frame.equals(tcvn3.frame) and sniffed.frame.equals(tcvn3.frame)
    assert sniffed.encoding == "vni"
    assert tcvn3.frame["crop"].to_list() == ["Chè", "Lúa", "Sắn"]


def test_headers_match_across_case_nfd_spacing_and_tone_placement():
    source = replace(
        CATALOG["health_facilities"],
        columns=(
            replace(CATALOG["health_facilities"].columns[0], header="Mã cơ sở hòa giải"),
            *CATALOG["health_facilities"].columns[1:],
        ),
    )
    headers = [
        "MÃ CƠ SỞ HOÀ GIẢI",
        unicodedata.normalize("NFD", "Tên cơ sở"),
        " Loại  hình ",
        "mã xã",
        "beds",
        "Ghi chú",
    ]
    renames, extras = match_headers(source, headers)
    assert renames == {
        "MÃ CƠ SỞ HOÀ GIẢI": "facility_code",
        headers[1]: "facility_name",
        " Loại  hình ": "facility_type",
        "mã xã": "commune_code",
        "beds": "beds",
    }
    assert extras == {"Ghi chú": "ghi_chu"}


# --- typing of Vietnamese values ----------------------------------------------------------------------------


def test_dates_numbers_and_booleans_in_every_notation(lake):
    land(lake, "health_visits", "health_visits_utf16.txt")
    load, build = ingest(lake, CATALOG["health_visits"])
    visits = silver(lake, "health_visits")
    # dd/mm/yyyy, Excel serial 46300 and ISO all mean 5 October 2026
    assert visits["visit_date"].to_list() == [date(2026, 10, 5)] * 3
    assert visits["cost_vnd"].to_list() == [1_234_000.0, 150_000.5, 98_000.0]
    assert visits["insured"].to_list() == [True, False, True]
    # KCB4: CCCD too short; its 'x' insured flag is fine
    assert quarantine(lake, "health_visits")["reason"].to_list() == ["patient_cccd: '0190900' does not match ^\\d{12}$"]
    assert quarantine(lake, "health_visits")["row_number"].to_list() == [5]


def test_a_column_of_few_values_is_cleaned_like_any_other(lake):
    """Statuses repeat over millions of rows, so silver cleans each distinct one once: NFC, trimmed, blank -> null."""
    folder = lake.landing / "dossiers"
    folder.mkdir(parents=True)

    def status(i: int) -> str:  # every 100th row blank or not allowed, the rest two statuses, one of them NFD
        if i % 100 == 0:
            return "   " if i % 200 == 0 else "Khác"
        return unicodedata.normalize("NFD", " Đã trả kết quả ") if i % 2 == 0 else "Đang xử lý"

    rows = [
        f"H56.01-261030-{i:07d},1.004227,H56.01,05431,30/10/2026,02/11/2026,,{status(i)},019090{i:06d}"
        for i in range(1, 1001)
    ]
    header = (FIXTURES / "dossiers_2026-10-30.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "dossiers_2026-10-30.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    load, build = ingest(lake, CATALOG["dossiers"])
    assert silver(lake, "dossiers")["status"].value_counts(sort=True).rows() == [
        ("Đang xử lý", 500),
        ("Đã trả kết quả", 490),
    ]
    assert quarantine(lake, "dossiers")["reason"].value_counts(sort=True).rows() == [
        ("status: 'Khác' is not an allowed value", 5),
        ("status: required value missing", 5),
    ]


def test_datetimes_with_offsets_become_local_time_and_json_numbers_stay_numbers(lake):
    land(lake, "enterprises", "enterprises.ndjson")
    land(lake, "feedback", "feedback.json")
    ingest(lake, CATALOG["enterprises"])
    ingest(lake, CATALOG["feedback"])
    enterprises = silver(lake, "enterprises")
    assert enterprises["updated_at"].to_list() == [datetime(2026, 10, 30, 8, 15), datetime(2026, 10, 30, 8, 0)]
    assert enterprises["charter_capital_vnd"].to_list() == [5_000_000_000.0, 1_500_000_000.5]
    assert enterprises["registered_date"].to_list() == [date(2015, 3, 2), date(2019, 11, 2)]
    feedback = silver(lake, "feedback")
    assert feedback["submitted_at"].to_list() == [datetime(2026, 10, 30, 7, 45), datetime(2026, 10, 29, 10, 0)]
    assert feedback["resolved_at"].to_list() == [None, datetime(2026, 10, 30, 16, 20)]


def test_vietnamese_separators_in_a_tcvn3_file(lake):
    land(lake, "agriculture_crops", "agriculture_crops_tcvn3.csv")
    load, build = ingest(lake, CATALOG["agriculture_crops"])
    crops = silver(lake, "agriculture_crops")
    assert crops["area_ha"].to_list() == [1234.5, 320.0]
    assert crops["output_tonnes"].to_list() == [11728.3, 1792.0]
    assert quarantine(lake, "agriculture_crops")["reason"].to_list() == ["crop: 'Sắn' is not an allowed value"]


def test_excel_workbook(lake):
    land(lake, "schools", "schools.xlsx")
    load, build = ingest(lake, CATALOG["schools"])
    assert silver(lake, "schools")["school_name"].to_list() == [
        "Trường THPT Chuyên Thái Nguyên",
        "Trường Tiểu học Ba Bể",
    ]


# --- lossless, incremental, idempotent ---------------------------------------------------------------------


def test_a_corrupt_file_next_to_good_ones_is_quarantined_whole_and_every_row_is_accounted(lake):
    land(lake, "feedback", "feedback.json", "feedback_truncated.json")
    land(lake, "enterprises", "enterprises.ndjson", "enterprises_truncated.ndjson")
    land(lake, "schools", "schools.xlsx", "schools_not_xlsx.xlsx")
    for name in ("feedback", "enterprises", "schools"):
        load, build = ingest(lake, CATALOG[name])
        assert len(load.files_new) == 1 and len(load.files_failed) == 1, name
        failed = load.files_failed[0]
        assert failed["file"] in failed["error"] and "cannot be read" in failed["error"]
        whole = quarantine(lake, name).filter(pl.col("stage") == "read")
        assert whole["source_file"].to_list() == [failed["file"]]
        assert whole["reason"][0].startswith("file could not be ingested: ")
        log = read_log(lake.ingestion_log, name, "bronze")
        assert (log["landed_rows"] == log["bronze_rows"] + log["quarantined_rows"]).all()
        assert build.bronze_rows == build.silver_rows + build.quarantined_rows + build.superseded_rows
        assert silver(lake, name).height == 2


def test_files_read_side_by_side_land_in_landing_order_and_a_resent_copy_lands_once(lake):
    """Bronze hashes and reads a batch's files in a thread pool: what lands must not depend on which read ends first."""
    days = [f"dossiers_2026-10-{d:02d}.csv" for d in range(10, 30)]
    folder = lake.landing / "dossiers"
    folder.mkdir(parents=True)
    fixture = (FIXTURES / "dossiers_2026-10-30.csv").read_text(encoding="utf-8").splitlines()
    for i, name in enumerate(days):  # same rows, distinct ids per day: every file is new content
        rows = [line.replace("-261030-", f"-2610{i:02d}-") for line in fixture[1:]]
        (folder / name).write_text("\n".join([fixture[0], *rows]) + "\n", encoding="utf-8")
    shutil.copy(folder / days[3], folder / "dossiers_2026-10-31_resent.csv")  # a day sent again under a new name
    shutil.copy(FIXTURES / "dossiers_2026-11-01_missing_commune.csv", folder)
    load, build = ingest(lake, CATALOG["dossiers"])
    assert [f["file"] for f in load.files_new] == days
    assert load.files_skipped == ["dossiers_2026-10-31_resent.csv"]
    assert [f["file"] for f in load.files_failed] == ["dossiers_2026-11-01_missing_commune.csv"]
    bronze = pl.read_delta(str(lake.bronze("dossiers")))
    assert bronze.height == 3 * len(days) and bronze["dossier_id"].n_unique() == 3 * len(days)
    assert bronze.group_by("_source_file").agg(pl.col("_row_number").sort()).sort("_source_file")[
        "_row_number"
    ].to_list() == [[2, 3, 4]] * len(days)


def test_rerun_is_idempotent_and_skips_known_files_including_failed_ones(lake):
    land(lake, "feedback", "feedback.json", "feedback_truncated.json")
    land(lake, "health_visits", "health_visits_utf16.txt")
    first = {n: ingest(lake, CATALOG[n]) for n in ("feedback", "health_visits")}
    tables = {n: (silver(lake, n), quarantine(lake, n).drop("ingested_at")) for n in first}
    log_rows = read_log(lake.ingestion_log).height
    for name in first:
        load, build = ingest(lake, CATALOG[name])
        assert load.files_new == [] and load.files_failed == [] and load.rows_written == 0
        assert build.mode == "unchanged"
        assert silver(lake, name).equals(tables[name][0])
        assert (
            quarantine(lake, name).drop("ingested_at").sort("source_file").equals(tables[name][1].sort("source_file"))
        )
    assert read_log(lake.ingestion_log).height == log_rows


def test_upsert_merges_on_the_key(lake):
    source = CATALOG["enterprises"]
    land(lake, "enterprises", "enterprises.ndjson")
    ingest(lake, source)
    version = pl.read_delta(str(lake.silver("enterprises"))).height
    land(lake, "enterprises", "enterprises_update.ndjson")
    load, build = ingest(lake, source)
    assert (build.mode, build.inserted_rows, build.updated_rows) == ("merged", 1, 1)
    table = silver(lake, "enterprises")
    assert table.height == version + 1
    assert dict(zip(table["tax_code"], table["status"])) == {
        "4601234561": "Đang hoạt động",
        "4601234579": "Tạm ngừng kinh doanh",
        "4700000010": "Đang hoạt động",
    }
    assert build.bronze_rows == 4 == build.silver_rows + build.quarantined_rows + build.superseded_rows


def test_append_source_adds_new_keys_only(lake):
    source = CATALOG["dossiers"]
    land(lake, "dossiers", "dossiers_2026-10-30.csv")
    ingest(lake, source)
    land(lake, "dossiers", "dossiers_2026-10-31_new_column.csv")
    load, build = ingest(lake, source)
    assert (build.mode, build.inserted_rows, build.superseded_rows) == ("appended", 1, 1)
    assert silver(lake, "dossiers")["dossier_id"].to_list() == [
        "H56.01-261030-0000001",
        "H56.01-261031-0000004",
        "H56.02-261030-0000002",
    ]
    assert build.bronze_rows == build.silver_rows + build.quarantined_rows + build.superseded_rows == 5


# --- schema drift ------------------------------------------------------------------------------------------


def test_new_optional_column_evolves_bronze_and_is_reported(lake):
    land(lake, "dossiers", "dossiers_2026-10-30.csv", "dossiers_2026-10-31_new_column.csv")
    load, build = ingest(lake, CATALOG["dossiers"])
    assert load.new_columns == {"dossiers_2026-10-31_new_column.csv": ["ghi_chu"]}
    assert any("'Ghi chú' → ghi_chu" in note for note in load.notes)
    bronze = pl.read_delta(str(lake.bronze("dossiers")))
    assert bronze.filter(pl.col("ghi_chu").is_not_null())["ghi_chu"].to_list() == ["Nộp trực tuyến"]
    assert read_log(lake.ingestion_log, "dossiers", "bronze").filter(pl.col("new_columns").is_not_null())[
        "file"
    ].to_list() == ["dossiers_2026-10-31_new_column.csv"]


def test_missing_required_column_quarantines_that_file_and_names_the_column(lake):
    land(lake, "dossiers", "dossiers_2026-10-30.csv", "dossiers_2026-11-01_missing_commune.csv")
    load, build = ingest(lake, CATALOG["dossiers"])
    assert [f["file"] for f in load.files_new] == ["dossiers_2026-10-30.csv"]
    assert load.files_failed[0]["error"] == (
        "dossiers_2026-11-01_missing_commune.csv: missing required column(s) "
        "'Mã xã' (commune_code) of the dossiers contract"
    )
    assert silver(lake, "dossiers").height == 2


def test_type_change_is_reported_naming_the_column(lake):
    land(lake, "health_facilities", "health_facilities_cp1258.csv", "health_facilities_type_change.csv")
    load, build = ingest(lake, CATALOG["health_facilities"])
    assert len(build.type_changes) == 1
    assert build.type_changes[0].startswith(
        "health_facilities.beds ('Số giường bệnh'): type change in "
        "health_facilities_type_change.csv: 6 of 6 values are not of type integer"
    )
    # one bad value in a good file is a bad row, not a type change
    assert "health_facilities_cp1258.csv" not in build.type_changes[0]


def test_a_run_interrupted_between_writes_and_its_log_does_not_duplicate_or_unbalance(lake):
    from deltalake import write_deltalake

    for name, fixtures in (("dossiers", ["dossiers_2026-10-30.csv"]), ("enterprises", ["enterprises.ndjson"])):
        source = CATALOG[name]
        land(lake, name, *fixtures)
        # bronze written, log never written (the run stopped in between)
        load_bronze(source, lake.landing, lake.bronze(name), log=lambda _: None)
        load, build = ingest(lake, source)
        assert load.rows_written == 0  # the file is known by its hash
        recovered = read_log(lake.ingestion_log, name, "bronze")
        assert recovered["error"].to_list() == ["log entry recovered from bronze after an interrupted run"]
        before = silver(lake, name)
        # silver written, its log rows lost: the next run re-applies the file without duplicating anything
        log = read_log(lake.ingestion_log)
        write_deltalake(str(lake.ingestion_log), log.filter(pl.col("stage") != "silver").to_arrow(), mode="overwrite")
        load, build = ingest(lake, source)
        assert silver(lake, name).equals(before)
        assert quarantine(lake, name).height == (1 if name == "dossiers" else 0)
        assert build.bronze_rows == build.silver_rows + build.quarantined_rows + build.superseded_rows, name

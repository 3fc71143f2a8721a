"""Samples of failing expectations are redacted before they leave GX's result (check metadata, results table, Data
Docs, log lines), and the open-data export refuses, publishing nothing, when its scan hits. Small inputs through the
real code: GX on a frame, a DuckDB file as the shared file."""

import json
from datetime import date

import duckdb
import polars as pl
import pytest

from ingestion.catalog import load_catalog
from quality.gx_runner import WHERE_FROM, validate_frame, validate_sql
from quality.suites import silver_suite
from sharing.config import load_config
from sharing.open_data import export_open_data
from sharing.pii_scan import Needles, PersonalDataLeak
from sharing.pseudonym import KEY_VARIABLE, pseudonym
from sharing.redaction import redact_tree

NO_PROVINCE = "099203100001"  # 12 digits, the contract's pattern, but no province 99
CITIZENS = load_catalog()["citizens"]


def _citizens() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cccd": [NO_PROVINCE, "019085000001", "019085000002"],
            "full_name": ["Nguyễn Văn An", "Trần Thị Hoa", "Lê Đức Thắng"],
            "date_of_birth": [date(1980, 3, 1)] * 3,
            "sex": ["Nam", "Nữ", "Nam"],
            "commune_code": ["05440", "05443", "05446"],
            "phone": ["02083855123", "0912345678", None],  # a landline where a mobile is expected
        }
    )


def _failed(outcome, rule: str):
    return next(o for o in outcome.outcomes if o.rule == rule)


def test_samples_are_masked_without_a_key(monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE)
    outcome = validate_frame("silver_citizens", silver_suite(CITIZENS), _citizens())
    assert _failed(outcome, "cccd_all").sample == ["099*********"]  # the province code that failed, no more
    assert _failed(outcome, "vn_mobile_all").sample == ["020********"]
    shown = json.dumps(outcome.result.to_json_dict(), ensure_ascii=False) + outcome.summary()
    assert NO_PROVINCE not in shown and "02083855123" not in shown
    assert "e.g. ['099*********']" in outcome.summary()


def test_samples_carry_the_keyed_pseudonym_with_a_key(pseudonym_key):
    outcome = validate_frame("silver_citizens", silver_suite(CITIZENS), _citizens())
    [sample] = _failed(outcome, "cccd_all").sample
    assert sample == f"099*********#{pseudonym(NO_PROVINCE, 'cccd', pseudonym_key.encode())}"  # as the shared file's
    [result] = [r for r in outcome.result.results if r.expectation_config.meta.get("rule") == "cccd_all"]
    assert result.result["partial_unexpected_list"] == [sample]  # what Data Docs render
    assert [c["value"] for c in result.result["partial_unexpected_counts"]] == [sample]


def test_samples_say_which_file_and_line_they_come_from(monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE)
    silver = _citizens().with_columns(_source_file=pl.lit("citizens_registry.xlsx"), _row_number=pl.int_range(2, 5))
    suite = silver_suite(CITIZENS)
    outcome = validate_sql("located", suite, "citizens", arrow_tables={"citizens": silver}, index_columns=WHERE_FROM)
    assert _failed(outcome, "cccd_all").sample == ["099********* (citizens_registry.xlsx:2)"]
    assert _failed(outcome, "vn_mobile_all").sample == ["020******** (citizens_registry.xlsx:2)"]
    assert NO_PROVINCE not in json.dumps(outcome.result.to_json_dict(), ensure_ascii=False)


def test_whole_rows_in_a_sample_keep_lineage_and_lose_personal_fields(monkeypatch):
    """A sample of whole rows (GX's `unexpected_rows`, `partial_unexpected_index_list`): the `pii: true` fields are
    redacted whatever they hold, the lineage (file, line) stays to find the raw row."""
    monkeypatch.delenv(KEY_VARIABLE)
    rows = {
        "details": {
            "unexpected_rows": [
                {
                    "full_name": "Nguyễn Văn An",
                    "sex": "Nam",
                    "_row_number": 2,
                    "_source_file": "citizens_registry.xlsx",
                    "note": "gọi 0912345678",
                }
            ]
        }
    }
    [row] = redact_tree(rows)["details"]["unexpected_rows"]
    assert row == {
        "full_name": "Ngu**********",
        "sex": "Nam",
        "_row_number": 2,
        "_source_file": "citizens_registry.xlsx",
        "note": "gọi***********",
    }


def _shared_file(path, procedure: str) -> None:
    table = load_config().open_datasets[0]
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema if not exists {table.schema}")
        con.execute(
            f"create or replace table {table.name} as select * from (values (?, 7)) t(procedure_code, received_count)",
            [procedure],
        )


def test_open_data_with_personal_data_publishes_nothing(tmp_path):
    shared, out = tmp_path / "shared_marts.duckdb", tmp_path / "open_data"
    needles = Needles.of(names=["Nguyễn Văn An"], phones=["0912345678"])
    _shared_file(shared, "DKKS")
    [exported], _ = export_open_data(shared, out, load_config(), needles=needles)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _shared_file(shared, "Nguyễn Văn An 0912345678")
    with pytest.raises(PersonalDataLeak) as refused:
        export_open_data(shared, out, load_config(), needles=needles)
    message = str(refused.value)
    assert f"open_data.{exported.dataset}.procedure_code" in message and "'name'" in message
    assert "'phone'" in message and "0912345678" not in message and "Nguyễn Văn An" not in message
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

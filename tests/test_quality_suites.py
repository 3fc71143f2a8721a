"""Each suite on small frames, through the pipeline's own engine (GX SQL on DuckDB): a clean frame passes, and each
bad-data fixture fails exactly the critical expectation it targets. Also the scorecard's formulas by hand."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from ingestion import reference
from ingestion.catalog import Column, Source, load_catalog
from quality.expectations import tax_code_is_valid
from quality.gx_runner import validate_frame, validate_sql
from quality.results import (
    QualityPaths,
    append_results,
    build_data_docs,
    read_results,
    result_rows,
    store_validation_result,
)
from quality.scorecard import DatasetSignals, by_department, score, scorecard
from quality.suites import bronze_suite, dossier_on_time_mart_suite, silver_suite

TODAY = date(2026, 11, 27)
CATALOG = load_catalog()
TN_COMMUNES = reference.thai_nguyen_communes()["commune_code"].to_list()

# An enterprise-like source built in code: a tax code column and the new types (datetime, boolean).
ENTERPRISES = Source(
    name="enterprises_fixture",
    title="Doanh nghiệp",
    department="Sở Tài chính",
    format="csv",
    pattern="x/*.csv",
    primary_key=("tax_code",),
    columns=(
        Column("tax_code", "ma_so_thue", required=True, pattern=r"^\d{10}(-\d{3})?$"),
        Column("commune_code", "ma_xa", required=True, pattern=r"^\d{5}$", reference="commune"),
        Column("updated_at", "ngay_cap_nhat", type="datetime", required=True),
        Column("active", "dang_hoat_dong", type="boolean"),
    ),
)


NAMES = ["Nguyễn Văn An", "Trần Thị Hoa", "Lê Đức Thắng", "Phạm Thu Hương", "Hoàng Minh Sơn", "Đàm Thị Lan"]
PHONES = ["0912345678", "0387654321", None, "0701234567", "0561234567", "0861234567"]


def _citizens(n: int = 6) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cccd": [f"0190850{i:05d}" for i in range(n)],
            "full_name": [NAMES[i % 6] for i in range(n)],
            "date_of_birth": [date(1960 + i % 50, 3, 1) for i in range(n)],
            "sex": [("Nam", "Nữ")[i % 2] for i in range(n)],
            "commune_code": [TN_COMMUNES[i % len(TN_COMMUNES)] for i in range(n)],
            "phone": [PHONES[i % 6] for i in range(n)],
        }
    )


def _enterprises() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tax_code": ["0100109106", "4600100155", "0100109106-001"],
            "commune_code": TN_COMMUNES[:3],
            "updated_at": [datetime(2026, 11, 1, 8, 30)] * 3,
            "active": [True, False, None],
        }
    )


def _silver(source: Source, frame: pl.DataFrame):
    return validate_sql(
        f"t_silver_{source.name}",
        silver_suite(source, today=TODAY),
        source.name,
        arrow_tables={source.name: frame.to_arrow()},
    )


def _critical_rules(outcome) -> set[str]:
    return {o.rule for o in outcome.critical_failures}


def test_data_docs_keep_a_suites_last_runs_and_the_results_table_keeps_all(lake):
    """GX's index reads every stored result on each build: an unpruned store slows every check night after night."""
    outcome = _silver(CATALOG["citizens"], _citizens())
    for night in range(7):
        append_results(lake, result_rows(outcome, dataset="citizens", layer="silver", run_id=f"night-{night}"))
        store_validation_result(lake, outcome, run_id=f"night-{night}", batch="silver.citizens")
        index, rendered = build_data_docs(lake, keep=3)
        assert rendered == 1  # only the new result: the kept ones have their pages already
    docs = QualityPaths.of(lake).data_docs / "validations" / outcome.suite
    assert sorted(p.relative_to(docs).parts[0] for p in docs.rglob("*.html")) == ["night-4", "night-5", "night-6"]
    assert sorted(p.name for p in docs.iterdir()) == ["night-4", "night-5", "night-6"]  # no empty folders left
    assert "night-6" in index.read_text() and "night-3" not in index.read_text()
    assert read_results(lake)["run_id"].n_unique() == 7


def test_tax_code_check_digit():
    assert tax_code_is_valid("0100109106") and tax_code_is_valid("0100109106-001")
    # 0,1,0,0,1,0,9,1,0 → Σ wᵢdᵢ = 29 + 17 + 7·9 + 5 = 114; 114 mod 11 = 4; check digit 10 − 4 = 6.
    assert not tax_code_is_valid("0100109107")
    assert not tax_code_is_valid("010010910")  # 9 digits
    assert not tax_code_is_valid("0000000000")  # remainder 0: no valid check digit


def test_clean_frames_pass_every_silver_suite():
    for source, frame in [(CATALOG["citizens"], _citizens()), (ENTERPRISES, _enterprises())]:
        outcome = _silver(source, frame)
        assert [o for o in outcome.outcomes if not o.success] == [], outcome.summary()


@pytest.mark.parametrize(
    "target, spoil",
    [
        (
            "cccd",
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 0)
                .then(pl.lit("099085000000"))
                .otherwise(pl.col("cccd"))
                .alias("cccd")
            ),
        ),  # no province 99
        ("vn_mobile", lambda f: f.with_columns(pl.lit("0212345678").alias("phone"))),  # a landline
        ("date_range", lambda f: f.with_columns(pl.lit(date(2031, 1, 1)).alias("date_of_birth"))),  # born in the future
        ("commune_known", lambda f: f.with_columns(pl.lit("99999").alias("commune_code"))),
        ("unique_key", lambda f: f.with_columns(pl.lit("019085000001").alias("cccd"))),
        ("allowed", lambda f: f.with_columns(pl.lit("X").alias("sex"))),
        ("required", lambda f: f.with_columns(pl.lit(None, dtype=pl.String).alias("full_name"))),
    ],
)
def test_each_bad_citizens_fixture_fails_exactly_its_expectation(target, spoil):
    outcome = _silver(CATALOG["citizens"], spoil(_citizens()))
    assert _critical_rules(outcome) == {target}, outcome.summary()
    failed = outcome.critical_failures[0]
    assert failed.unexpected_count and failed.sample, failed


def test_bad_tax_code_fails_the_check_digit_rule_only():
    bad = _enterprises().with_columns(pl.Series("tax_code", ["0100109107", "4600100155", "0100109106-001"]))
    outcome = _silver(ENTERPRISES, bad)
    assert _critical_rules(outcome) == {"tax_code"}
    assert outcome.critical_failures[0].sample == ["0100109107"]


def test_a_few_unknown_communes_only_warn():
    frame = _citizens(40).with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("99999"))
        .otherwise(pl.col("commune_code"))
        .alias("commune_code")
    )  # 1 in 40: 2.5%
    outcome = _silver(CATALOG["citizens"], frame)
    assert outcome.passed and [o.rule for o in outcome.warnings] == ["commune_known_all"]


def _bronze(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        _source_file=pl.lit("a.xlsx"),
        _file_hash=pl.lit("h"),
        _row_number=pl.int_range(2, frame.height + 2),
        _ingested_at=pl.lit(datetime.now()),
    )


def test_bronze_suite_catches_typed_columns_and_mostly_missing_required_fields():
    raw = _citizens().with_columns(pl.col("date_of_birth").dt.strftime("%d/%m/%Y"))
    source = CATALOG["citizens"]

    def run(frame):
        return validate_sql("t_bronze", bronze_suite(source), "citizens", arrow_tables={"citizens": frame.to_arrow()})

    assert run(_bronze(raw)).passed and not run(_bronze(raw)).warnings
    assert _critical_rules(run(_bronze(_citizens()))) == {"raw_text"}  # a typed date column is not raw text
    half_missing = raw.with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col("sex")).alias("sex")
    )
    outcome = run(_bronze(half_missing))
    assert _critical_rules(outcome) == {"required"} and {o.rule for o in outcome.warnings} == {"required_all"}


def test_mart_suite_rates_and_reconciliation():
    mart = pl.DataFrame(
        {
            "agency_code": ["H56.01", "H56.02"],
            "month": [date(2026, 10, 1)] * 2,
            "received_count": [10, 5],
            "resolved_count": [8, 4],
            "resolved_on_time_count": [6, 4],
            "on_time_rate": [0.75, 1.0],
        }
    )

    def run(frame, silver_rows=15):
        return validate_sql(
            "t_mart", dossier_on_time_mart_suite(silver_rows), "mart", arrow_tables={"mart": frame.to_arrow()}
        )

    assert run(mart).passed
    assert _critical_rules(run(mart, silver_rows=16)) == {"reconciles_with_silver"}
    assert _critical_rules(run(mart.with_columns(pl.Series("on_time_rate", [1.5, 1.0])))) == {"rate_in_0_1"}


def test_pandas_engine_gives_the_same_verdicts():
    """The benchmark's other engine runs the same suite (custom expectations included) to the same result."""
    bad = _citizens().with_columns(pl.lit("0212345678").alias("phone"))
    outcome = validate_frame("t_pandas", silver_suite(CATALOG["citizens"], today=TODAY), bad)
    assert _critical_rules(outcome) == {"vn_mobile"}


AS_OF = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_scorecard_matches_hand_computed_values():
    signals = DatasetSignals(
        dataset="d",
        department="Sở A",
        day=AS_OF.date(),
        as_of=AS_OF,
        validity_run=8,
        validity_passed=6,  # correct = 100 × 6/8 = 75
        required_cells=10,
        required_filled=8,
        rows=45,
        expected_rows=50,  # complete = 50 × 0.8 + 50 × 0.9 = 85
        bronze_rows=50,
        quarantined_rows=3,
        duplicate_rows=2,  # clean = 100 × (1 − 5/50) = 90
        newest_data_at=AS_OF - timedelta(hours=36),
        freshness_hours=24,  # 12 h overdue of 24 → live = 50
        resolvable_values=20,
        resolved_values=19,  # unified = 95
        in_mart=True,
        published=False,  # shared = 50
    )
    assert score(signals) == {
        "correct": 75.0,
        "complete": 85.0,
        "clean": 90.0,
        "live": 50.0,
        "unified": 95.0,
        "shared": 50.0,
        "overall": 74.2,
    }  # (75+85+90+50+95+50)/6 = 74.17

    fresh = DatasetSignals(
        dataset="e",
        department="Sở A",
        day=AS_OF.date(),
        as_of=AS_OF,
        validity_run=4,
        validity_passed=4,
        required_cells=4,
        required_filled=4,
        rows=2,
        bronze_rows=2,
        newest_data_at=AS_OF - timedelta(hours=1),
        freshness_hours=24,
        published=True,
        in_mart=True,
    )
    assert score(fresh) == {
        "correct": 100.0,
        "complete": 100.0,
        "clean": 100.0,
        "live": 100.0,
        "unified": None,
        "shared": 100.0,
        "overall": 100.0,
    }
    nothing = DatasetSignals(dataset="f", department="Sở B", day=AS_OF.date(), as_of=AS_OF)
    assert score(nothing) == {
        "correct": None,
        "complete": 0.0,
        "clean": None,
        "live": 0.0,
        "unified": None,
        "shared": 0.0,
        "overall": 0.0,
    }

    departments = by_department(scorecard([signals, fresh, nothing])).to_dicts()
    assert [(d["department"], d["datasets"], d["live"], d["unified"]) for d in departments] == [
        ("Sở A", 2, 75.0, 95.0),
        ("Sở B", 1, 0.0, None),
    ]

"""The sample generator: every catalog source, in its declared format and encoding, with what other helpers rely on
(old commune codes, CCCDs that join to citizens, valid tax codes), deterministic."""

import hashlib

import numpy as np
import polars as pl
import pytest

from ingestion import reference
from ingestion.catalog import load_catalog
from ingestion.encodings import detect
from ingestion.extracts import landing_files, read_extract
from ingestion.sample_data import generate, mst_check_digit

CATALOG = load_catalog()


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    counts = generate(out, scale="small", seed=3)
    return out, counts


def _read(landing_dir, name: str) -> pl.DataFrame:
    source = CATALOG[name]
    return pl.concat([read_extract(source, p).frame for p in landing_files(source, landing_dir)])


def test_every_source_has_files_in_its_declared_format_and_encoding(landing):
    out, counts = landing
    assert set(counts) == set(CATALOG)
    for name, source in CATALOG.items():
        files = landing_files(source, out)
        assert files, name
        if source.format == "csv":
            assert detect(files[0].read_bytes()) == (source.encoding if source.encoding != "utf-8" else "utf-8"), name
        assert sum(read_extract(source, p).frame.height for p in files) == counts[name], name


def test_a_share_of_commune_codes_are_pre_2025_codes(landing):
    out, _ = landing
    old = set(reference.pre2025_units().filter(pl.col("province_code").is_in(["19", "06"]))["commune_code"])
    current = set(reference.thai_nguyen_communes()["commune_code"])
    # ~5% are drawn from the old codes; some old codes live on as current ones, so count the retired ones only
    for name, low, high in (("dossiers", 0.02, 0.08), ("citizens", 0.02, 0.08), ("enterprises", 0.0, 0.15)):
        codes = _read(out, name)["commune_code"]
        retired = codes.is_in(list(old - current)).mean()
        assert low < retired < high, (name, retired)


def test_cccds_mostly_reference_citizens(landing):
    out, _ = landing
    citizens = set(_read(out, "citizens")["cccd"])
    for name, column in (
        ("health_visits", "patient_cccd"),
        ("social_insurance", "citizen_cccd"),
        ("dossiers", "applicant_cccd"),
    ):
        share = _read(out, name)[column].is_in(list(citizens)).mean()
        assert share > 0.85, (name, share)


def test_tax_codes_carry_a_valid_mst_check_digit(landing):
    out, _ = landing
    codes = _read(out, "enterprises")["tax_code"].str.slice(0, 10)
    codes = codes.filter(codes.str.contains(r"^\d{10}$"))
    digits = np.array([[int(c) for c in code] for code in codes])
    assert len(digits) > 0
    assert (mst_check_digit(digits[:, :9]) == digits[:, 9]).all()
    # the published example 0100109106 (weights 31,29,23,19,17,13,7,5,3) checks out too
    assert mst_check_digit(np.array([[0, 1, 0, 0, 1, 0, 9, 1, 0]]))[0] == 6


def test_about_one_percent_of_rows_are_bad_and_the_generator_is_deterministic(landing, tmp_path):
    out, counts = landing
    again = tmp_path / "again"
    generate(again, scale="small", seed=3)

    def digest(root):
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    assert digest(out) == digest(again)
    visits = _read(out, "health_visits")
    bad = (~visits["patient_cccd"].str.contains(r"^\d{12}$")).mean()
    assert 0.001 < bad < 0.02

"""Nothing raw outside the restricted tier (issue 19): personal data planted in the sample extracts stays in bronze,
silver, the quarantine and warehouse.duckdb. After one real refresh with a persistent Dagster instance, every file of
DAGSTER_HOME (SQLite included), of lake/quality/ (Delta Parquet and Data Docs), lake/published/, the shared file and
lake/open_data/ is searched for every planted value and every CCCD, phone number and name of the population."""

import json
import re
import sqlite3
import unicodedata
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from dagster import AssetKey, DagsterInstance

from ingestion import sample_data
from orchestration.run_pipeline import run_refresh
from tests.pipeline_run import sample_lake_in
from tests.sharing_run import population_needles

INVALID_PROVINCE_CCCDS = ["099203100001", "099185100002"]  # 12 digits, as the contract asks, but no province 99
LANDLINES = ["02083855123", "02083644321"]  # Thái Nguyên landlines in mobile-phone columns
LEAKY_MART = "mart_public_service_dossiers_monthly"
PREVIOUS_EXPORT = pl.DataFrame({"procedure_code": ["DKKS"], "received_count": [1]})  # what consumers had before


def _plant(patch: pytest.MonkeyPatch, planted: dict) -> None:
    """Spoil the generated frames before they are written: a CCCD of no province (a citizen, and an applicant), a
    landline as a citizen's and a reporter's phone, and a citizen's name and mobile typed into a procedure code."""
    make_citizens, make_dossiers, make_feedback = (
        sample_data.make_citizens,
        sample_data.make_dossiers,
        sample_data.make_feedback,
    )

    def citizens(*args, **kwargs):
        frame = make_citizens(*args, **kwargs)
        frame = frame.with_columns(
            cccd=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(INVALID_PROVINCE_CCCDS[0])).otherwise("cccd"),
            phone=pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(LANDLINES[0])).otherwise("phone"),
        )
        with_phone = frame.slice(2).drop_nulls("phone").head(3)
        planted["free_text"] = [f"{name} {phone}" for name, phone in with_phone.select("full_name", "phone").rows()]
        return frame

    def dossiers(*args, **kwargs):
        frame = make_dossiers(*args, **kwargs)
        row = pl.int_range(pl.len())
        free_text = planted["free_text"]
        return frame.with_columns(
            applicant_cccd=pl.when(row == 5).then(pl.lit(INVALID_PROVINCE_CCCDS[1])).otherwise("applicant_cccd"),
            procedure_code=pl.when(row == 10)
            .then(pl.lit(free_text[0]))
            .when(row == 11)
            .then(pl.lit(free_text[1]))
            .when(row == 12)
            .then(pl.lit(free_text[2]))
            .otherwise("procedure_code"),
        )

    def feedback(*args, **kwargs):
        frame = make_feedback(*args, **kwargs)
        return frame.with_columns(
            reporter_phone=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(LANDLINES[1])).otherwise("reporter_phone")
        )

    patch.setattr(sample_data, "make_citizens", citizens)
    patch.setattr(sample_data, "make_dossiers", dossiers)
    patch.setattr(sample_data, "make_feedback", feedback)


@pytest.fixture(scope="module")
def leaky_refresh(tmp_path_factory, pseudonym_key):
    root = tmp_path_factory.mktemp("pii_leaks")
    planted: dict = {}
    with sample_lake_in(root, lambda patch: _plant(patch, planted)) as lake:
        previous = lake.published / f"mart={LEAKY_MART}" / "data_0.parquet"
        previous.parent.mkdir(parents=True)
        PREVIOUS_EXPORT.write_parquet(previous)
        home = root / "dagster_home"
        home.mkdir()
        with DagsterInstance.local_temp(str(home)) as instance:
            result = run_refresh(instance)
        yield lake, home, result, planted


DIGIT_RUN = re.compile(r"[0-9]+")


def _texts(path: Path):
    """Every text a file holds: Parquet cells (compressed on disk), SQLite values (overflow pages split long ones),
    else the file's bytes as UTF-8."""
    head = path.read_bytes()[:16]
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        yield "\n".join(str(v) for column in frame.iter_columns() for v in column.cast(pl.String, strict=False))
    elif head == b"SQLite format 3\x00":
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            for (table,) in con.execute("select name from sqlite_master where type = 'table'").fetchall():
                for row in con.execute(f'select * from "{table}"'):
                    yield "\n".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row)
    else:
        yield path.read_bytes().decode("utf-8", "replace")


def _forms(text: str) -> set[str]:
    """How a text can be written in a file, lower-cased: NFC or NFD, as is or JSON-escaped (ensure_ascii)."""
    forms = {unicodedata.normalize(form, text.lower()) for form in ("NFC", "NFD")}
    return forms | {json.dumps(f)[1:-1] for f in forms}


def _hits(paths: list[Path], digits: dict[str, set[str]], texts: dict[str, set[str]]) -> Counter:
    """Hits per kind: identifiers as whole digit runs (a phone inside a longer number is not that phone), texts
    (names) anywhere, case-insensitively, in one Aho-Corasick pass."""
    kind_of = {form: kind for kind, values in texts.items() for value in values for form in _forms(value)}
    found: Counter = Counter()
    for path in paths:
        for text in _texts(path):
            runs = Counter(DIGIT_RUN.findall(text))
            for kind, values in digits.items():
                found[kind] += sum(runs[v] for v in values if v in runs)
            if kind_of:
                matches = pl.Series([text.lower()]).str.extract_many(list(kind_of), overlapping=True)[0]
                found.update(kind_of[m] for m in matches)
    return found


def _files(*places: Path) -> list[Path]:
    return [p for place in places if place.exists() for p in ([place] if place.is_file() else place.rglob("*"))]


def test_planted_personal_data_appears_nowhere_outside_the_restricted_tier(leaky_refresh):
    lake, home, result, planted = leaky_refresh
    silver = pl.read_delta(str(lake.silver("dossiers")))
    assert set(planted["free_text"]) & set(silver["procedure_code"]), "the leak must reach silver (and the marts)"
    population = population_needles(lake)
    digits = {
        "planted_id": {*INVALID_PROVINCE_CCCDS, *LANDLINES},
        "cccd": set(population.cccds.to_list()),
        "phone": set(population.phones.to_list()),
    }
    texts = {"planted_text": set(planted["free_text"]), "name": set(population.names)}
    places = {
        "DAGSTER_HOME": _files(home),
        "lake/quality": _files(lake.root / "quality"),
        "lake/published": _files(lake.published),
        "shared file": _files(lake.shared_marts),
        "lake/open_data": _files(lake.open_data),
    }
    counts = {place: _hits([p for p in paths if p.is_file()], digits, texts) for place, paths in places.items()}
    print("\nleak search, hits per place and kind: " + json.dumps({p: dict(c) for p, c in counts.items()}))
    assert all(len(paths) for place, paths in places.items() if place in ("DAGSTER_HOME", "lake/quality"))
    assert {place: dict(c) for place, c in counts.items() if sum(c.values())} == {}


def test_the_leaking_mart_is_not_published_and_the_asset_names_the_column(leaky_refresh):
    lake, _, result, _ = leaky_refresh
    previous = lake.published / f"mart={LEAKY_MART}" / "data_0.parquet"
    assert pl.read_parquet(previous).equals(PREVIOUS_EXPORT)
    assert [p.name for p in previous.parent.iterdir()] == ["data_0.parquet"]  # nothing staged left behind
    [failure] = [
        e
        for e in result.all_events
        if e.is_step_failure and e.step_key == f"published__{LEAKY_MART}"  # the asset's op
    ]
    message = failure.step_failure_data.error.message
    assert f"marts.{LEAKY_MART}.procedure_code" in message and "name" in message and "phone" in message, message
    clean = lake.published / "mart=mart_dossier_on_time_by_agency_month" / "data_0.parquet"
    assert clean.exists()  # the other marts are published
    assert not result.success
    assert AssetKey(["published", LEAKY_MART]) not in {
        m.asset_key for m in result.asset_materializations_for_node(f"published__{LEAKY_MART}")
    }

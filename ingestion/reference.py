"""Administrative-unit reference data, read from the dbt seeds the project ships (one copy for dbt and Python)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
THAI_NGUYEN = "19"
BAC_KAN_PRE2025 = "06"


def _read_seed(name: str) -> pl.DataFrame:
    return pl.read_csv(SEEDS_DIR / f"{name}.csv", infer_schema_length=0)


@lru_cache
def current_units() -> pl.DataFrame:
    """Units after the 1 July 2025 reform (34 provinces, communes/wards, no districts)."""
    return _read_seed("ref_admin_units_2025")


@lru_cache
def pre2025_units() -> pl.DataFrame:
    return _read_seed("ref_admin_units_pre2025")


@lru_cache
def known_commune_codes() -> frozenset[str]:
    """Every commune code of either era: a department may still send a pre-2025 code."""
    codes = pl.concat([current_units()["commune_code"], pre2025_units()["commune_code"]])
    return frozenset(codes.to_list())


def thai_nguyen_communes() -> pl.DataFrame:
    return current_units().filter(pl.col("province_code") == THAI_NGUYEN)

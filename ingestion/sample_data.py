"""Seeded, deterministic sample extracts that look like Thái Nguyên's departmental data.

Vectorised with numpy/polars so the same code makes a test-sized sample in milliseconds and a
province-scale one for the benchmark. A small share of rows is deliberately bad (bad CCCD, missing
dates, unknown commune, non-NFC text), as real extracts are.

    python -m ingestion.sample_data --scale small --out lake/landing
"""

from __future__ import annotations

import argparse
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ingestion import reference
from ingestion.catalog import Source, load_catalog


@dataclass(frozen=True)
class Scale:
    citizens: int
    dossiers: int


SCALES = {
    "tiny": Scale(citizens=300, dossiers=1_200),
    "small": Scale(citizens=3_000, dossiers=12_000),
    "province": Scale(citizens=1_800_000, dossiers=5_000_000),
}
DEFAULT_END = date(2026, 10, 31)
DAYS_COVERED = 120
BAD_ROW_SHARE = 0.01
UNKNOWN_COMMUNE = "99999"

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Dương", "Ngô", "Hà", "Ma", "Nông",
            "Triệu", "Lường", "Lý", "Đàm", "Mai", "Chu"]
MIDDLE_MALE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Tiến", "Công"]
MIDDLE_FEMALE = ["Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Phương", "Mai", "Kim"]
GIVEN_MALE = ["Hùng", "Dũng", "Tuấn", "Sơn", "Long", "Thắng", "Cường", "Hải", "Khánh", "Quý", "Trường", "Định"]
GIVEN_FEMALE = ["Hoa", "Lan", "Hương", "Thủy", "Hằng", "Nga", "Linh", "Yến", "Trang", "Hạnh", "Thoa", "Huyền"]
AGENCIES = [f"H56.{i:02d}" for i in range(1, 11)]
# Procedure code → statutory processing time in days (simplified to calendar days).
PROCEDURES = {"1.004227": 3, "1.001612": 5, "2.000889": 7, "1.008003": 10, "1.010724": 15, "2.002154": 20}
STATUS_IN_PROGRESS, STATUS_RESOLVED, STATUS_CANCELLED = "Đang xử lý", "Đã trả kết quả", "Đã hủy"


def _header(source: Source) -> dict[str, str]:
    return {c.name: c.header for c in source.columns}


def _cccd(rng: np.random.Generator, n: int, birth_year: np.ndarray, female: np.ndarray) -> np.ndarray:
    """12 digits: 0 + pre-2025 province of registration, sex/century digit, 2-digit birth year, 6 digits."""
    province = rng.choice(np.array(["019", "006", "001", "024", "020"]), size=n, p=[0.72, 0.2, 0.04, 0.02, 0.02])
    century = np.where(birth_year >= 2000, 2, 0) + female.astype(int)
    serial = rng.integers(0, 1_000_000, size=n)
    yy = birth_year % 100
    return np.char.add(np.char.add(province, century.astype(str)),
                       np.char.add(np.char.zfill(yy.astype(str), 2), np.char.zfill(serial.astype(str), 6)))


def _pick(rng: np.random.Generator, values: list[str], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), size=n)]


def make_citizens(rng: np.random.Generator, n: int) -> pl.DataFrame:
    female = rng.random(n) < 0.5
    birth_year = rng.integers(1940, 2011, size=n)
    birth_days = rng.integers(0, 365, size=n)
    names = np.where(
        female,
        _pick(rng, SURNAMES, n) + " " + _pick(rng, MIDDLE_FEMALE, n) + " " + _pick(rng, GIVEN_FEMALE, n),
        _pick(rng, SURNAMES, n) + " " + _pick(rng, MIDDLE_MALE, n) + " " + _pick(rng, GIVEN_MALE, n),
    )
    communes = reference.thai_nguyen_communes()["commune_code"].to_numpy()
    prefix = rng.choice(np.array(["03", "05", "07", "08", "09"]), size=n)
    phone = np.char.add(prefix, np.char.zfill(rng.integers(0, 100_000_000, size=n).astype(str), 8)).astype(object)
    phone[rng.random(n) < 0.15] = None  # many citizens have no phone on record
    dob = pl.DataFrame({"y": birth_year, "d": birth_days}).select(
        dob=(pl.date(pl.col("y"), 1, 1) + pl.duration(days=pl.col("d"))).dt.strftime("%d/%m/%Y")
    )["dob"]
    df = pl.DataFrame({
        "cccd": _cccd(rng, n, birth_year, female),
        "full_name": names.astype(str),
        "date_of_birth": dob,
        "sex": np.where(female, "Nữ", "Nam"),
        "commune_code": communes[rng.integers(0, len(communes), size=n)],
        "phone": phone,
    })
    return df.unique("cccd", keep="first", maintain_order=True)


def make_dossiers(rng: np.random.Generator, n: int, citizens_cccd: np.ndarray, end: date) -> pl.DataFrame:
    start = end - timedelta(days=DAYS_COVERED - 1)
    received = rng.integers(0, DAYS_COVERED, size=n)
    procedures = np.array(list(PROCEDURES))
    procedure = procedures[rng.integers(0, len(procedures), size=n)]
    sla = np.vectorize(PROCEDURES.get)(procedure)
    # Most dossiers finish within the statutory time; some run late.
    duration = np.where(rng.random(n) < 0.85, rng.integers(0, sla + 1), sla + rng.integers(1, 15, size=n))
    returned = received + duration
    roll = rng.random(n)
    status = np.where(roll < 0.03, STATUS_CANCELLED, STATUS_RESOLVED).astype(object)
    status[returned > DAYS_COVERED - 1] = STATUS_IN_PROGRESS  # not finished by the extract date
    agency = np.asarray(AGENCIES)[rng.integers(0, len(AGENCIES), size=n)]
    communes = reference.thai_nguyen_communes()["commune_code"].to_numpy()
    frame = pl.DataFrame({
        "agency_code": agency, "received": received, "due": received + sla, "returned": returned,
        "procedure_code": procedure, "status": status, "seq": np.arange(n),
        "commune_code": communes[rng.integers(0, len(communes), size=n)],
        "applicant_cccd": citizens_cccd[rng.integers(0, len(citizens_cccd), size=n)],
    })
    day = lambda col: (pl.lit(start) + pl.duration(days=pl.col(col))).dt.strftime("%d/%m/%Y")  # noqa: E731
    return frame.select(
        dossier_id=pl.col("agency_code") + "-" + (pl.lit(start) + pl.duration(days=pl.col("received"))).dt.strftime("%y%m%d")
        + "-" + pl.col("seq").cast(pl.String).str.zfill(7),
        procedure_code="procedure_code",
        agency_code="agency_code",
        commune_code="commune_code",
        received_date=day("received"),
        due_date=day("due"),
        returned_date=pl.when(pl.col("status") == STATUS_RESOLVED).then(day("returned")),
        status="status",
        applicant_cccd="applicant_cccd",
        _month=(pl.lit(start) + pl.duration(days=pl.col("received"))).dt.strftime("%Y-%m"),
    )


def _spoil(rng: np.random.Generator, df: pl.DataFrame, spoilers: dict[str, object]) -> pl.DataFrame:
    """Break about BAD_ROW_SHARE of rows, each with one of `spoilers` (column → bad value)."""
    n = df.height
    bad = rng.random(n) < BAD_ROW_SHARE
    kind = rng.integers(0, len(spoilers), size=n)
    exprs = []
    for i, (column, value) in enumerate(spoilers.items()):
        hit = pl.Series(bad & (kind == i))
        exprs.append(pl.when(hit).then(pl.lit(value, dtype=pl.String)).otherwise(pl.col(column)).alias(column))
    return df.with_columns(exprs)


def _nfd_some(rng: np.random.Generator, df: pl.DataFrame, column: str, share: float = 0.05) -> pl.DataFrame:
    """Decompose a few values (NFD), as some legacy systems export: the pipeline must normalise to NFC."""
    hit = rng.random(df.height) < share
    values = [unicodedata.normalize("NFD", v) if h and v is not None else v for v, h in zip(df[column], hit)]
    return df.with_columns(pl.Series(column, values, dtype=pl.String))


def generate(out: Path, scale: str = "small", seed: int = 19, end: date = DEFAULT_END) -> dict[str, int]:
    """Write sample extracts under `out` (the landing zone); returns rows written per source."""
    size = SCALES[scale]
    rng = np.random.default_rng(seed)
    catalog = load_catalog()
    citizens = make_citizens(rng, size.citizens)
    dossiers = make_dossiers(rng, size.dossiers, citizens["cccd"].to_numpy(), end)

    citizens = _spoil(rng, citizens, {"cccd": "12345678X", "date_of_birth": None, "commune_code": UNKNOWN_COMMUNE})
    dossiers = _spoil(rng, dossiers, {"applicant_cccd": "01923", "received_date": None, "commune_code": UNKNOWN_COMMUNE})
    dossiers = _nfd_some(rng, dossiers, "status")

    (out / "citizens").mkdir(parents=True, exist_ok=True)
    citizens.rename(_header(catalog["citizens"])).write_excel(out / "citizens" / "citizens_registry.xlsx",
                                                              worksheet="dan_cu", autofit=False)
    (out / "dossiers").mkdir(parents=True, exist_ok=True)
    for (month,), part in dossiers.group_by("_month", maintain_order=True):
        part.drop("_month").rename(_header(catalog["dossiers"])).write_csv(out / "dossiers" / f"dossiers_{month}.csv")
    return {"citizens": citizens.height, "dossiers": dossiers.height}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="landing zone (default: the lake's landing/)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    from ingestion.lake import Lake

    out = args.out or Lake.from_env().landing
    counts = generate(out, args.scale, args.seed)
    print(f"wrote sample extracts to {out}: " + ", ".join(f"{k} {v:,} rows" for k, v in counts.items()))


if __name__ == "__main__":
    main()

"""Seeded, deterministic sample extracts that look like Thái Nguyên's departmental data.

Vectorised with numpy/polars so the same code makes a test-sized sample in milliseconds and a
province-scale one for the benchmark. A small share of rows is deliberately bad (bad CCCD, missing
dates, unknown commune, non-NFC text), as real extracts are.

    python -m ingestion.sample_data --scale small --out lake/landing
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from ingestion import reference
from ingestion.catalog import Source, load_catalog
from ingestion.encodings import encode


@dataclass(frozen=True)
class Scale:
    citizens: int
    dossiers: int
    health_visits: int
    environment_readings: int

    def share(self, divisor: int, floor: int = 20) -> int:
        """A source sized in proportion to the population."""
        return max(self.citizens // divisor, floor)


SCALES = {
    "tiny": Scale(citizens=300, dossiers=1_200, health_visits=1_500, environment_readings=1_000),
    "small": Scale(citizens=3_000, dossiers=12_000, health_visits=15_000, environment_readings=10_000),
    "province": Scale(citizens=1_800_000, dossiers=5_000_000, health_visits=3_000_000, environment_readings=2_000_000),
}
DEFAULT_END = date(2026, 10, 31)
DAYS_COVERED = 120
# Applicants and patients who live outside the province's registry (other provinces, visitors).
OUTSIDER_SHARE = 0.05
BAD_ROW_SHARE = 0.01
UNKNOWN_COMMUNE = "99999"
OLD_CODE_SHARE = 0.05
XLSX_MAX_ROWS = 500_000

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Dương",
    "Ngô",
    "Hà",
    "Ma",
    "Nông",
    "Triệu",
    "Lường",
    "Lý",
    "Đàm",
    "Mai",
    "Chu",
]
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
    return np.char.add(
        np.char.add(province, century.astype(str)),
        np.char.add(np.char.zfill(yy.astype(str), 2), np.char.zfill(serial.astype(str), 6)),
    )


def _communes(rng: np.random.Generator, n: int, old_share: float = OLD_CODE_SHARE) -> np.ndarray:
    """Current Thái Nguyên commune codes, with a share of pre-2025 codes of old Thái Nguyên (19) and Bắc Kạn (06):
    some departments still use the codes from before the July 2025 reform."""
    current = reference.thai_nguyen_communes()["commune_code"].to_numpy()
    old = (
        reference.pre2025_units()
        .filter(pl.col("province_code").is_in([reference.THAI_NGUYEN, reference.BAC_KAN_PRE2025]))["commune_code"]
        .to_numpy()
    )
    return np.where(
        rng.random(n) < old_share,
        old[rng.integers(0, len(old), size=n)],
        current[rng.integers(0, len(current), size=n)],
    )


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
    prefix = rng.choice(np.array(["03", "05", "07", "08", "09"]), size=n)
    # many citizens have no phone on record
    phone = _nullify(
        np.char.add(prefix, np.char.zfill(rng.integers(0, 100_000_000, size=n).astype(str), 8)), rng.random(n) < 0.15
    )
    dob = pl.DataFrame({"y": birth_year, "d": birth_days}).select(
        dob=(pl.date(pl.col("y"), 1, 1) + pl.duration(days=pl.col("d"))).dt.strftime("%d/%m/%Y")
    )["dob"]
    df = pl.DataFrame(
        {
            "cccd": _cccd(rng, n, birth_year, female),
            "full_name": names.astype(str),
            "date_of_birth": dob,
            "sex": np.where(female, "Nữ", "Nam"),
            "commune_code": _communes(rng, n),
            "phone": phone,
        }
    )
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
    frame = pl.DataFrame(
        {
            "agency_code": agency,
            "received": received,
            "due": received + sla,
            "returned": returned,
            "procedure_code": procedure,
            "status": status,
            "seq": np.arange(n),
            "commune_code": _communes(rng, n),
            # Most applicants are in the province's registry; some live elsewhere (real CCCDs all the same).
            "applicant_cccd": np.where(
                rng.random(n) >= OUTSIDER_SHARE,
                citizens_cccd[rng.integers(0, len(citizens_cccd), size=n)],
                _cccd(rng, n, rng.integers(1950, 2005, n), rng.random(n) < 0.5),
            ),
        }
    )
    day = lambda col: (pl.lit(start) + pl.duration(days=pl.col(col))).dt.strftime("%d/%m/%Y")  # noqa: E731
    return frame.select(
        dossier_id=pl.col("agency_code")
        + "-"
        + (pl.lit(start) + pl.duration(days=pl.col("received"))).dt.strftime("%y%m%d")
        + "-"
        + pl.col("seq").cast(pl.String).str.zfill(7),
        procedure_code="procedure_code",
        agency_code="agency_code",
        commune_code="commune_code",
        received_date=day("received"),
        due_date=day("due"),
        returned_date=pl.when(pl.col("status") == STATUS_RESOLVED).then(day("returned")),
        status="status",
        applicant_cccd="applicant_cccd",
        _day=(pl.lit(start) + pl.duration(days=pl.col("received"))).dt.strftime("%Y-%m-%d"),
    )


def _spoil(rng: np.random.Generator, df: pl.DataFrame, spoilers: dict[str, object]) -> pl.DataFrame:
    """Break about BAD_ROW_SHARE of rows, each with one of `spoilers` (column → bad value)."""
    n = df.height
    bad = rng.random(n) < BAD_ROW_SHARE
    kind = rng.integers(0, len(spoilers), size=n)
    exprs = []
    for i, (column, value) in enumerate(spoilers.items()):
        hit = pl.Series(bad & (kind == i))
        exprs.append(
            pl.when(hit).then(pl.lit(value, dtype=pl.String)).otherwise(pl.col(column).cast(pl.String)).alias(column)
        )
    return df.with_columns(exprs)


def _nfd_some(rng: np.random.Generator, df: pl.DataFrame, column: str, share: float = 0.05) -> pl.DataFrame:
    """Decompose a few values (NFD), as some legacy systems export: the pipeline must normalise to NFC."""
    hit = pl.Series(rng.random(df.height) < share)
    return df.with_columns(
        pl.when(hit).then(pl.col(column).str.normalize("NFD")).otherwise(pl.col(column)).alias(column)
    )


def _days(start: date, offsets, fmt: str = "%d/%m/%Y") -> pl.Expr:
    return (pl.lit(start) + pl.duration(days=offsets)).dt.strftime(fmt)


def _nullify(values: np.ndarray, missing: np.ndarray) -> pl.Series:
    """Strings with nulls where `missing`, as a String series (numpy would make an Object array)."""
    return pl.select(pl.when(pl.Series(missing)).then(None).otherwise(pl.Series(values.astype(str)))).to_series()


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return np.char.zfill(rng.integers(0, 10**width, size=n).astype(str), width)


def _vi_number(values: pl.Expr, decimals: int = 0) -> pl.Expr:
    """1234567.5 → '1.234.567,5' (Vietnamese separators)."""
    whole = values.floor().cast(pl.Int64).cast(pl.String)
    grouped = whole.str.reverse().str.replace_all(r"(\d{3})", "$1.").str.reverse().str.strip_chars_start(".")
    if not decimals:
        return grouped
    frac = ((values - values.floor()) * 10**decimals).round(0).cast(pl.Int64).cast(pl.String).str.zfill(decimals)
    return grouped + "," + frac


MST_WEIGHTS = np.array([31, 29, 23, 19, 17, 13, 7, 5, 3])


def mst_check_digit(first9: np.ndarray) -> np.ndarray:
    """Vietnamese tax code (MST) check digit: 10 − (Σ wᵢ·dᵢ mod 11); remainder 0 has no valid digit (→ -1)."""
    remainder = (first9 * MST_WEIGHTS).sum(axis=1) % 11
    return np.where(remainder == 0, -1, 10 - remainder)


def make_tax_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid 10-digit MSTs of Thái Nguyên (46…) and Bắc Kạn (47…) businesses, unique."""
    digits = rng.integers(0, 10, size=(n * 2 + 10, 9))
    digits[:, 0] = 4
    digits[:, 1] = np.where(rng.random(len(digits)) < 0.8, 6, 7)
    check = mst_check_digit(digits)
    valid = digits[(check >= 0) & (check <= 9)]
    codes = _join_digits(valid)
    codes = np.char.add(codes, mst_check_digit(valid).astype(str))
    _, first = np.unique(codes, return_index=True)
    return codes[np.sort(first)][:n]


def _join_digits(digits: np.ndarray) -> np.ndarray:
    number = (digits * (10 ** np.arange(digits.shape[1] - 1, -1, -1))).sum(axis=1)
    return np.char.zfill(number.astype(str), digits.shape[1])


COMPANY_WORDS = [
    "Chè Tân Cương",
    "Khoáng sản Núi Pháo",
    "Xây dựng Gia Sàng",
    "Thương mại Đồng Hỷ",
    "Vận tải Phổ Yên",
    "Nông sản Bắc Kạn",
    "Dược liệu Ba Bể",
    "Điện tử Yên Bình",
    "Du lịch Hồ Núi Cốc",
    "Gạch ngói Phú Bình",
    "May mặc Sông Công",
    "Cơ khí Gang Thép",
    "Thực phẩm Định Hóa",
    "Gỗ rừng Chợ Đồn",
    "Tin học Hoàng Văn Thụ",
]
LEGAL_FORMS = [
    "Công ty TNHH một thành viên",
    "Công ty TNHH hai thành viên trở lên",
    "Công ty cổ phần",
    "Doanh nghiệp tư nhân",
    "Hợp tác xã",
]
INDUSTRIES = ["0127", "0710", "1079", "1410", "2410", "2610", "4100", "4520", "4933", "5510", "6201", "4663"]
ENTERPRISE_STATUS = ["Đang hoạt động", "Tạm ngừng kinh doanh", "Đã giải thể"]


def make_enterprises(rng: np.random.Generator, n: int, citizens_cccd: np.ndarray, end: date) -> pl.DataFrame:
    tax = make_tax_codes(rng, n)
    n = len(tax)
    branch = rng.random(n) < 0.08
    tax = np.where(branch, np.char.add(tax, "-001"), tax)
    form = _pick(rng, LEGAL_FORMS, n)
    name = form + " " + _pick(rng, COMPANY_WORDS, n) + " " + np.char.zfill(rng.integers(1, 999, n).astype(str), 3)
    start = date(1995, 1, 1)
    frame = pl.DataFrame({"d": rng.integers(0, (end - start).days, n), "u": rng.integers(0, 86_400 * 30, n)})
    return pl.DataFrame(
        {
            "tax_code": tax,
            "enterprise_name": name.astype(str),
            "legal_form": form.astype(str),
            "industry_code": _pick(rng, INDUSTRIES, n).astype(str),
            "registered_date": frame.select(_days(start, pl.col("d"), "%Y-%m-%d")).to_series(),
            "status": rng.choice(ENTERPRISE_STATUS, n, p=[0.86, 0.08, 0.06]),
            "commune_code": _communes(rng, n),
            "charter_capital_vnd": (rng.lognormal(21, 1.2, n) // 1_000_000 * 1_000_000),
            "legal_rep_cccd": citizens_cccd[rng.integers(0, len(citizens_cccd), n)],
            "updated_at": frame.select(
                (pl.lit(datetime(end.year, end.month, end.day)) - pl.duration(seconds=pl.col("u"))).dt.strftime(
                    "%Y-%m-%dT%H:%M:%S+07:00"
                )
            ).to_series(),
        }
    )


FACILITY_TYPES = {"Bệnh viện tỉnh": 0.03, "Trung tâm y tế": 0.12, "Trạm y tế xã": 0.7, "Phòng khám tư nhân": 0.15}


def make_health_facilities(rng: np.random.Generator) -> pl.DataFrame:
    communes = reference.thai_nguyen_communes()
    n = communes.height * 2
    kind = rng.choice(list(FACILITY_TYPES), n, p=list(FACILITY_TYPES.values()))
    commune = communes.sample(n, with_replacement=True, seed=int(rng.integers(1 << 30)))
    prefix = {
        "Bệnh viện tỉnh": "Bệnh viện Đa khoa",
        "Trung tâm y tế": "Trung tâm Y tế",
        "Trạm y tế xã": "Trạm Y tế",
        "Phòng khám tư nhân": "Phòng khám Đa khoa",
    }
    beds = np.where(
        kind == "Bệnh viện tỉnh",
        rng.integers(200, 1200, n),
        np.where(kind == "Trung tâm y tế", rng.integers(50, 300, n), rng.integers(0, 12, n)),
    )
    return pl.DataFrame(
        {
            "facility_code": np.char.add("19", np.char.zfill(np.arange(1, n + 1).astype(str), 3)),
            "facility_name": [f"{prefix[k]} {c}" for k, c in zip(kind, commune["commune_name"])],
            "facility_type": kind,
            "commune_code": commune["commune_code"].to_numpy(),
            "beds": beds.astype(str),
        }
    )


ICD10 = ["J06.9", "I10", "E11", "K29.7", "M54.5", "J18.9", "A09", "R50.9", "N39.0", "Z00.0", "J45", "B34.9"]


def make_health_visits(
    rng: np.random.Generator, n: int, citizens_cccd: np.ndarray, facilities: np.ndarray, end: date
) -> pl.DataFrame:
    start = end - timedelta(days=DAYS_COVERED - 1)
    day = rng.integers(0, DAYS_COVERED, n)
    # Patients from outside the registry (other provinces, visitors) still hold real CCCDs.
    outsiders = _cccd(rng, n, rng.integers(1940, 2020, n), rng.random(n) < 0.5)
    patient = np.where(
        rng.random(n) >= OUTSIDER_SHARE, citizens_cccd[rng.integers(0, len(citizens_cccd), n)], outsiders
    )
    serial = (start - date(1899, 12, 30)).days + day
    frame = pl.DataFrame(
        {"day": day, "serial": serial, "cost": rng.lognormal(12.5, 1.1, n).round(-3), "excel": rng.random(n) < 0.3}
    )
    return pl.DataFrame(
        {
            "visit_id": np.char.add("KCB", np.char.zfill(np.arange(n).astype(str), 9)),
            "facility_code": facilities[rng.integers(0, len(facilities), n)],
            "patient_cccd": patient,
            # Excel's "Unicode Text" export writes some dates as serial numbers
            "visit_date": frame.select(
                pl.when(pl.col("excel")).then(pl.col("serial").cast(pl.String)).otherwise(_days(start, pl.col("day")))
            ).to_series(),
            "icd10_code": _pick(rng, ICD10, n).astype(str),
            "insured": np.where(rng.random(n) < 0.9, "Có", "Không"),
            "cost_vnd": frame.select(_vi_number(pl.col("cost"))).to_series(),
        }
    )


LEVELS = {"Mầm non": "Trường Mầm non", "Tiểu học": "Trường Tiểu học", "THCS": "Trường THCS", "THPT": "Trường THPT"}


def make_schools(rng: np.random.Generator) -> pl.DataFrame:
    communes = reference.thai_nguyen_communes()
    rows = []
    for level, prefix in LEVELS.items():
        count = communes.height if level != "THPT" else communes.height // 3
        picked = communes.sample(count, seed=int(rng.integers(1 << 30)))
        rows.append(
            pl.DataFrame(
                {
                    "level": [level] * count,
                    "school_name": [f"{prefix} {c}" for c in picked["commune_name"]],
                    "commune_code": picked["commune_code"],
                }
            )
        )
    frame = pl.concat(rows)
    n = frame.height
    return frame.select(
        school_code=pl.Series(np.char.add("TN", np.char.zfill(np.arange(1, n + 1).astype(str), 4))),
        school_name="school_name",
        level="level",
        commune_code="commune_code",
        ownership=pl.Series(np.where(rng.random(n) < 0.92, "Công lập", "Tư thục")),
    )


GRADES = {"Mầm non": (0, 0), "Tiểu học": (1, 5), "THCS": (6, 9), "THPT": (10, 12)}


def make_students(rng: np.random.Generator, n: int, citizens_cccd: np.ndarray, schools: pl.DataFrame) -> pl.DataFrame:
    school = schools.sample(n, with_replacement=True, seed=int(rng.integers(1 << 30)))
    low = school["level"].replace_strict({k: v[0] for k, v in GRADES.items()}, return_dtype=pl.Int64).to_numpy()
    high = school["level"].replace_strict({k: v[1] for k, v in GRADES.items()}, return_dtype=pl.Int64).to_numpy()
    grade = rng.integers(low, high + 1)
    year = np.where(rng.random(n) < 0.5, 2025, 2024)
    cccd = _nullify(citizens_cccd[rng.integers(0, len(citizens_cccd), n)], rng.random(n) >= 0.85)
    frame = pl.DataFrame({"y": year, "d": rng.integers(0, 20, n), "left": rng.random(n) < 0.03})
    return pl.DataFrame(
        {
            "student_id": np.char.add("HS", np.char.zfill(np.arange(n).astype(str), 8)),
            "school_year": np.char.add(np.char.add(year.astype(str), "-"), (year + 1).astype(str)),
            "school_code": school["school_code"],
            "student_cccd": cccd,
            "grade": grade.astype(str),
            "enrolled_date": frame.select(
                (pl.date(pl.col("y"), 8, 25) + pl.duration(days=pl.col("d"))).dt.strftime("%d/%m/%Y")
            ).to_series(),
            "left_date": frame.select(
                pl.when(pl.col("left")).then(
                    (pl.date(pl.col("y") + 1, 1, 10) + pl.duration(days=pl.col("d"))).dt.strftime("%d/%m/%Y")
                )
            ).to_series(),
        }
    )


def make_social_insurance(
    rng: np.random.Generator, n: int, citizens: pl.DataFrame, tax_codes: np.ndarray, end: date
) -> pl.DataFrame:
    person = (
        citizens.sample(n, with_replacement=False, seed=int(rng.integers(1 << 30)))
        if n <= citizens.height
        else citizens.sample(n, with_replacement=True, seed=int(rng.integers(1 << 30)))
    )
    start = date(2010, 1, 1)
    frame = pl.DataFrame(
        {
            "d": rng.integers(0, (end - start).days, n),
            "len": rng.integers(30, 3000, n),
            "ended": rng.random(n) < 0.2,
            "salary": rng.lognormal(15.9, 0.4, n).round(-3),
        }
    )
    start_day = _days(start, pl.col("d"))
    return pl.DataFrame(
        {
            "insurance_number": np.char.add("19", _digits(rng, n, 8)),
            "citizen_cccd": person["cccd"],
            "employer_tax_code": _nullify(tax_codes[rng.integers(0, len(tax_codes), n)], rng.random(n) >= 0.85),
            "commune_code": person["commune_code"],
            "start_date": frame.select(start_day).to_series(),
            # A period that has ended ended before the extract was taken.
            "end_date": frame.select(
                pl.when(pl.col("ended")).then(
                    _days(start, pl.min_horizontal(pl.col("d") + pl.col("len"), (end - start).days))
                )
            ).to_series(),
            "monthly_salary_vnd": frame.select(_vi_number(pl.col("salary"))).to_series(),
        }
    ).unique("insurance_number", keep="first", maintain_order=True)


CROPS = {
    "Chè": (150, 900, 9.5),
    "Lúa": (200, 1500, 5.6),
    "Ngô": (50, 600, 4.8),
    "Cây ăn quả": (30, 400, 8.0),
    "Rừng trồng": (300, 3000, 90.0),
}


def make_agriculture(rng: np.random.Generator, end: date) -> pl.DataFrame:
    communes = reference.thai_nguyen_communes()["commune_code"].to_numpy()
    years = np.arange(end.year - 2, end.year + 1)
    grid = (
        pl.DataFrame({"commune_code": communes})
        .join(pl.DataFrame({"crop": list(CROPS)}), how="cross")
        .join(pl.DataFrame({"season_year": years}), how="cross")
    )
    n = grid.height
    low = np.array([CROPS[c][0] for c in grid["crop"]])
    high = np.array([CROPS[c][1] for c in grid["crop"]])
    yield_ = np.array([CROPS[c][2] for c in grid["crop"]])
    area = (rng.uniform(low, high) / 10).round(1)
    output = (area * yield_ * rng.uniform(0.8, 1.2, n)).round(1)
    return grid.with_columns(
        season_year=pl.col("season_year").cast(pl.String),
        area_ha=_vi_number(pl.Series(area), 1),
        output_tonnes=_vi_number(pl.Series(output), 1),
    )


STATIONS = [
    ("QT-TPTN-01", "Phan Đình Phùng"),
    ("QT-TPTN-02", "Gia Sàng"),
    ("QT-SC-01", "Sông Công"),
    ("QT-PY-01", "Phổ Yên"),
    ("QT-DH-01", "Định Hóa"),
    ("QT-BK-01", "Bắc Kạn"),
    ("QT-BB-01", "Ba Bể"),
    ("QT-NP-01", "Đại Từ"),
]
PARAMETERS = {
    "PM2.5": ("µg/m³", 35, 15),
    "PM10": ("µg/m³", 55, 20),
    "NO2": ("µg/m³", 25, 10),
    "SO2": ("µg/m³", 12, 5),
    "CO": ("µg/m³", 900, 300),
    "O3": ("µg/m³", 60, 20),
    "pH": ("-", 7.1, 0.4),
    "COD": ("mg/l", 14, 6),
    "TSS": ("mg/l", 30, 12),
}


def make_environment(rng: np.random.Generator, n: int, end: date) -> pl.DataFrame:
    units = reference.thai_nguyen_communes()
    by_name = dict(zip(units["commune_name"], units["commune_code"]))
    fallback = units["commune_code"][0]
    stations = np.array([s for s, _ in STATIONS])
    station_commune = np.array([by_name.get(c, fallback) for _, c in STATIONS])
    params = np.array(list(PARAMETERS))
    per_hour = len(stations) * len(params)
    hours = -(-n // per_hour)
    idx = np.arange(hours * per_hour)[:n]
    station_i, param_i, hour = (idx // len(params)) % len(stations), idx % len(params), idx // per_hour
    mean = np.array([PARAMETERS[p][1] for p in params])[param_i]
    spread = np.array([PARAMETERS[p][2] for p in params])[param_i]
    value = np.abs(rng.normal(mean, spread)).round(2)
    first = datetime(end.year, end.month, end.day, 23) - timedelta(hours=int(hours) - 1)
    return (
        pl.DataFrame(
            {
                "station_code": stations[station_i],
                "commune_code": station_commune[station_i],
                "parameter": params[param_i],
                "h": hour,
                "value": value,
                "unit": np.array([PARAMETERS[p][0] for p in params])[param_i],
            }
        )
        .with_columns(
            measured_at=(pl.lit(first) + pl.duration(hours=pl.col("h"))).dt.strftime("%Y-%m-%dT%H:%M:%S+07:00"),
            _day=(pl.lit(first) + pl.duration(hours=pl.col("h"))).dt.strftime("%Y-%m-%d"),
        )
        .select("station_code", "commune_code", "parameter", "measured_at", "value", "unit", "_day")
    )


FEEDBACK_CATEGORIES = [
    "Môi trường",
    "Giao thông",
    "Trật tự đô thị",
    "An ninh trật tự",
    "Điện, nước",
    "Y tế",
    "Đất đai, xây dựng",
]
CHANNELS = ["Ứng dụng", "Tổng đài", "Cổng thông tin", "Zalo"]
FEEDBACK_STATUS = ["Mới", "Đang xử lý", "Đã xử lý", "Từ chối"]


def make_feedback(rng: np.random.Generator, n: int, end: date) -> pl.DataFrame:
    start = datetime(end.year, end.month, end.day) - timedelta(days=DAYS_COVERED)
    submitted = rng.integers(0, DAYS_COVERED * 86_400, n)
    status = rng.choice(FEEDBACK_STATUS, n, p=[0.08, 0.17, 0.7, 0.05])
    took = rng.integers(3_600, 12 * 86_400, n)
    fmt = "%d/%m/%Y %H:%M"
    phone = _nullify(np.char.add(rng.choice(["03", "09", "08"], n), _digits(rng, n, 8)), rng.random(n) < 0.4)
    frame = pl.DataFrame({"s": submitted, "t": took, "done": status == "Đã xử lý"})
    at = lambda secs: (pl.lit(start) + pl.duration(seconds=secs)).dt.strftime(fmt)  # noqa: E731
    return pl.DataFrame(
        {
            "report_id": np.char.add("PA", np.char.zfill(np.arange(n).astype(str), 7)),
            "category": _pick(rng, FEEDBACK_CATEGORIES, n).astype(str),
            "channel": rng.choice(CHANNELS, n, p=[0.55, 0.2, 0.1, 0.15]),
            "commune_code": _communes(rng, n, old_share=0.0),
            "submitted_at": frame.select(at(pl.col("s"))).to_series(),
            "due_at": frame.select(at(pl.col("s") + 5 * 86_400)).to_series(),
            "resolved_at": frame.select(pl.when(pl.col("done")).then(at(pl.col("s") + pl.col("t")))).to_series(),
            "status": status,
            "handling_agency_code": _pick(rng, AGENCIES, n).astype(str),
            "reporter_phone": phone,
        }
    )


TOURISM_SITES = [
    ("Khu di tích lịch sử Quốc gia đặc biệt ATK Định Hóa", "Di tích lịch sử", "Quốc gia đặc biệt", "Định Hóa"),
    ("Hồ Núi Cốc", "Khu du lịch", None, "Đại Từ"),
    ("Hồ Ba Bể", "Danh lam thắng cảnh", "Quốc gia đặc biệt", "Ba Bể"),
    ("Đồi chè Tân Cương", "Điểm du lịch cộng đồng", None, "Tân Cương"),
    ("Bảo tàng Văn hóa các dân tộc Việt Nam", "Điểm du lịch cộng đồng", None, "Phan Đình Phùng"),
    ("Đền Đuổm", "Di tích lịch sử", "Quốc gia", "Phú Lương"),
    ("Chùa Hang", "Di tích lịch sử", "Quốc gia", "Đồng Hỷ"),
    ("Động Puông", "Danh lam thắng cảnh", "Quốc gia", "Ba Bể"),
    ("Thác Khuổi Nhi", "Danh lam thắng cảnh", "Cấp tỉnh", "Na Rì"),
    ("Khu di tích ATK Chợ Đồn", "Di tích lịch sử", "Quốc gia đặc biệt", "Chợ Đồn"),
    ("Làng văn hóa Pác Ngòi", "Điểm du lịch cộng đồng", None, "Ba Bể"),
    ("Di tích Đình Phương Độ", "Di tích lịch sử", "Cấp tỉnh", "Sông Công"),
]


def make_tourism(rng: np.random.Generator) -> pl.DataFrame:
    units = reference.thai_nguyen_communes()
    by_name = dict(zip(units["commune_name"], units["commune_code"]))
    codes = units["commune_code"].to_numpy()
    n = len(TOURISM_SITES)
    return pl.DataFrame(
        {
            "site_code": [f"DL{i:03d}" for i in range(1, n + 1)],
            "site_name": [s[0] for s in TOURISM_SITES],
            "site_type": [s[1] for s in TOURISM_SITES],
            "ranking": [s[2] for s in TOURISM_SITES],
            "commune_code": [by_name.get(s[3], codes[i % len(codes)]) for i, s in enumerate(TOURISM_SITES)],
            "visitors_last_year": rng.integers(5_000, 900_000, n),
        }
    )


def make_admin_units() -> pl.DataFrame:
    return reference.thai_nguyen_communes().select(
        "province_code", "province_name", "commune_code", "commune_name", "commune_type"
    )


def _write_text(frame: pl.DataFrame, path: Path, encoding: str, separator: str = ",") -> None:
    """CSV in any catalog encoding: polars writes UTF-8, ingestion.encodings turns it into the legacy bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = frame.write_csv(separator=separator)
    if encoding == "utf-8":
        path.write_text(text, encoding="utf-8")
    elif encoding == "utf-8-sig":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    else:
        path.write_bytes(encode(text, encoding))


def _write_json(frame: pl.DataFrame, path: Path, lines: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    (frame.write_ndjson if lines else frame.write_json)(path)


def _write(frame: pl.DataFrame, source: Source, path: Path) -> None:
    frame = frame.rename(_header(source))
    if source.format == "xlsx":
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fixed creation time: the same seed gives the same bytes, so a regenerated workbook is not a "new" file.
        with xlsxwriter.Workbook(path) as workbook:
            workbook.set_properties({"created": datetime(2026, 1, 1)})
            frame.write_excel(workbook, worksheet=source.name[:31], autofit=False)
    elif source.format in ("json", "ndjson"):
        _write_json(frame, path, lines=source.format == "ndjson")
    else:
        _write_text(frame, path, source.encoding, source.delimiter)


def generate(out: Path, scale: str = "small", seed: int = 19, end: date = DEFAULT_END) -> dict[str, int]:
    """Write sample extracts of every catalog source under `out` (the landing zone); returns rows per source."""
    size = SCALES[scale]
    rng = np.random.default_rng(seed)
    catalog = load_catalog()
    citizens = make_citizens(rng, size.citizens)
    cccd = citizens["cccd"].to_numpy()
    dossiers = make_dossiers(rng, size.dossiers, cccd, end)
    enterprises = make_enterprises(rng, size.share(60), cccd, end)
    facilities = make_health_facilities(rng)
    visits = make_health_visits(rng, size.health_visits, cccd, facilities["facility_code"].to_numpy(), end)
    schools = make_schools(rng)
    students = make_students(rng, size.share(6), cccd, schools)
    insurance = make_social_insurance(rng, size.share(6), citizens, enterprises["tax_code"].to_numpy(), end)
    crops = make_agriculture(rng, end)
    readings = make_environment(rng, size.environment_readings, end)
    feedback = make_feedback(rng, size.share(20), end)
    tourism = make_tourism(rng)
    admin = make_admin_units()

    citizens = _spoil(rng, citizens, {"cccd": "12345678X", "date_of_birth": None, "commune_code": UNKNOWN_COMMUNE})
    dossiers = _spoil(
        rng, dossiers, {"applicant_cccd": "01923", "received_date": None, "commune_code": UNKNOWN_COMMUNE}
    )
    dossiers = _nfd_some(rng, dossiers, "status")
    enterprises = _spoil(
        rng, enterprises, {"tax_code": "46000", "registered_date": "31/02/2020", "commune_code": UNKNOWN_COMMUNE}
    )
    visits = _spoil(rng, visits, {"patient_cccd": "0191234", "visit_date": "32/13/2026", "insured": "không rõ"})
    students = _spoil(rng, students, {"grade": "lớp 5", "enrolled_date": None, "student_cccd": "12"})
    insurance = _spoil(
        rng, insurance, {"insurance_number": "19ABC", "start_date": "00/00/0000", "commune_code": UNKNOWN_COMMUNE}
    )
    crops = _spoil(rng, crops, {"area_ha": "không có", "crop": "Sắn"})
    readings = _spoil(rng, readings, {"value": "NaN?", "measured_at": "hôm qua"})
    feedback = _spoil(rng, feedback, {"submitted_at": None, "status": "Chờ"})
    facilities = _spoil(rng, facilities, {"beds": "nhiều"})

    written = {}

    def put(name: str, frame: pl.DataFrame, file_name: str) -> None:
        source = catalog[name]
        _write(frame.select(source.column_names), source, out / source.pattern.split("/")[0] / file_name)
        written[name] = written.get(name, 0) + frame.height

    # An Excel sheet holds 1,048,576 rows: the registry comes as several workbooks at province scale.
    parts = list(citizens.iter_slices(XLSX_MAX_ROWS))
    for i, part in enumerate(parts, start=1):
        put("citizens", part, "citizens_registry.xlsx" if len(parts) == 1 else f"citizens_registry_{i:02d}.xlsx")
    for (day,), part in dossiers.group_by("_day", maintain_order=True):
        put("dossiers", part, f"dossiers_{day}.csv")
    put("enterprises", enterprises, f"enterprises_{end:%Y%m%d}.ndjson")
    put("health_facilities", facilities, "co_so_y_te.csv")
    put("health_visits", visits, f"luot_kham_{end:%Y%m}.txt")
    put("schools", schools, "truong_hoc.xlsx")
    put("students", students, "hoc_sinh_2025-2026.csv")
    put("social_insurance", insurance, f"bhxh_{end:%Y%m}.xlsx")
    put("agriculture_crops", crops, "dien_tich_cay_trong.csv")
    for (day,), part in readings.sort("_day").group_by("_day", maintain_order=True):
        put("environment_readings", part, f"quan_trac_{day}.ndjson")
    put("feedback", feedback, f"phan_anh_{end:%Y%m%d}.json")
    put("tourism_sites", tourism, "di_tich_du_lich.json")
    put("admin_units", admin, "don_vi_hanh_chinh_2025.csv")
    return written


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

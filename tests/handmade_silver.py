"""Small, hand-made silver tables for the departmental sources (feedback, environment, health, education, social
insurance, enterprises, agriculture, tourism, unit register), with figures known in advance, and a way to run the
real dbt project over them.

The generated sample data is random; these tables hold the silver contract's columns (+ _source_file, _row_number,
_ingested_at) with rows chosen so each mart's figures can be worked out by hand.
"""

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

from ingestion.lake import PROJECT_ROOT, Lake
from ingestion.warehouse_sources import expose_silver

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
MST_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)

# Real current communes of Thái Nguyên, and a retired Bắc Kạn code that went whole into one of them.
PHAN_DINH_PHUNG, QUAN_TRIEU, DUC_XUAN = "05443", "05482", "01840"
OLD_NGUYEN_THI_MINH_KHAI = "01834"  # Bắc Kạn, pre-2025 → 01840 Phường Đức Xuân


def mst(first9: str) -> str:
    """A tax code with a correct check digit (first9 chosen so the remainder is not 0)."""
    remainder = sum(w * int(d) for w, d in zip(MST_WEIGHTS, first9)) % 11
    assert remainder != 0, first9
    return first9 + str(10 - remainder)


def _with_lineage(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.with_columns(
        _source_file=pl.lit(f"{name}/hand_made.json"),
        _row_number=pl.int_range(2, frame.height + 2, dtype=pl.Int64),
        _ingested_at=pl.lit(datetime(2026, 11, 1, 6, 0), dtype=pl.Datetime("us", "UTC")),
    )


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def frames(registry_cccds: list[str]) -> dict[str, pl.DataFrame]:
    """Silver rows per source. registry_cccds: CCCDs present in the population registry."""
    in_registry = registry_cccds[0]
    feedback = pl.DataFrame(
        {
            "report_id": ["R1", "R2", "R3", "R4", "R5", "R6"],
            "category": ["Môi trường"] * 5 + ["Giao thông"],
            "channel": ["Ứng dụng", "Zalo", "Tổng đài", "Ứng dụng", "Cổng thông tin", "Ứng dụng"],
            "commune_code": [PHAN_DINH_PHUNG] * 5 + [OLD_NGUYEN_THI_MINH_KHAI],
            "submitted_at": [
                _dt(t)
                for t in [
                    "2026-10-01 08:00",
                    "2026-10-02 08:00",
                    "2026-10-03 08:00",
                    "2026-10-04 08:00",
                    "2026-10-05 08:00",
                    "2026-10-20 08:00",
                ]
            ],
            "due_at": [
                _dt(t)
                for t in [
                    "2026-10-03 08:00",
                    "2026-10-04 08:00",
                    "2026-10-05 08:00",
                    "2026-10-06 08:00",
                    "2026-10-07 08:00",
                    "2026-10-23 08:00",
                ]
            ],
            "resolved_at": [
                _dt("2026-10-02 08:00"),
                _dt("2026-10-05 08:00"),
                _dt("2026-10-03 20:00"),
                None,
                None,
                _dt("2026-10-22 08:00"),
            ],
            "status": ["Đã xử lý", "Đã xử lý", "Đã xử lý", "Đang xử lý", "Từ chối", "Đã xử lý"],
            "handling_agency_code": ["UBND.05443"] * 5 + ["H56.03"],
            "reporter_phone": ["0912345678"] * 6,
        }
    )
    hours = [datetime(2026, 10, d, h) for d in (1, 2) for h in range(24)]
    pm25 = [60.0] * 24 + [30.0] * 24  # day 1 mean 60 > 50 (24 h limit); day 2 fine
    no2 = [250.0] + [50.0] * 23 + [50.0] * 24  # one hour over the 1 h limit (200) on day 1
    environment = pl.DataFrame(
        {
            "station_code": ["KK01"] * 96 + ["NM01"],
            "commune_code": [PHAN_DINH_PHUNG] * 96 + [OLD_NGUYEN_THI_MINH_KHAI],
            "parameter": ["PM2.5"] * 48 + ["NO2"] * 48 + ["pH"],
            "measured_at": hours + hours + [datetime(2026, 10, 1, 9)],
            "value": pm25 + no2 + [9.1],  # pH 9.1 outside 6-8.5
            "unit": ["µg/m³"] * 48 + ["ug/m3"] * 48 + ["pH"],
        }
    )
    facilities = pl.DataFrame(
        {
            "facility_code": ["TYT05443", "BVTN", "TYT01840"],
            "facility_name": [
                "Trạm y tế phường Phan Đình Phùng",
                "Bệnh viện Đa khoa Trung ương Thái Nguyên",
                "Trạm y tế phường Đức Xuân",
            ],
            "facility_type": ["Trạm y tế xã", "Bệnh viện tỉnh", "Trạm y tế xã"],
            "commune_code": [PHAN_DINH_PHUNG, PHAN_DINH_PHUNG, OLD_NGUYEN_THI_MINH_KHAI],
            "beds": [5, 500, 3],
        }
    )
    visits = pl.DataFrame(
        {
            "visit_id": ["V1", "V2", "V3", "V4"],
            "facility_code": ["TYT05443", "BVTN", "BVTN", "TYT01840"],
            "patient_cccd": ["019300000003", "019300000003", in_registry, "019300000004"],
            "visit_date": [date(2026, 9, 1), date(2026, 9, 2), date(2026, 9, 3), date(2026, 9, 4)],
            "icd10_code": ["J06.9", "I10", "E11", None],
            "insured": [True, True, False, True],
            "cost_vnd": [100_000.0, 300_000.0, 500_000.0, 50_000.0],
        }
    )
    schools = pl.DataFrame(
        {
            "school_code": ["TH01", "THCS01", "MN01"],
            "school_name": ["Trường Tiểu học Đội Cấn", "Trường THCS Nha Trang", "Trường Mầm non Đức Xuân"],
            "level": ["Tiểu học", "THCS", "Mầm non"],
            "commune_code": [PHAN_DINH_PHUNG, PHAN_DINH_PHUNG, OLD_NGUYEN_THI_MINH_KHAI],
            "ownership": ["Công lập", "Công lập", "Tư thục"],
        }
    )
    students = pl.DataFrame(
        {
            "student_id": ["HS1", "HS2", "HS3", "HS4", "HS5", "HS1"],
            "school_year": ["2025-2026"] * 5 + ["2024-2025"],
            "school_code": ["TH01", "TH01", "TH01", "THCS01", "THCS01", "TH01"],
            "student_cccd": [None] * 6,
            "grade": [3, 4, 5, 6, 7, 2],
            "enrolled_date": [date(2025, 9, 5)] * 5 + [date(2024, 9, 5)],
            "left_date": [None, None, date(2026, 1, 10), None, None, None],
        }
    )
    social_insurance = pl.DataFrame(
        {
            "insurance_number": ["1900000001", "1900000002"],
            "citizen_cccd": [in_registry, "019300000001"],  # the second is in no registry: SI fills the gap
            "employer_tax_code": [mst("460010001"), None],
            "commune_code": [QUAN_TRIEU, QUAN_TRIEU],
            "start_date": [date(2024, 1, 1), date(2025, 3, 1)],
            "end_date": [None, None],
            "monthly_salary_vnd": [8_000_000.0, 6_500_000.0],
        }
    )
    enterprises = pl.DataFrame(
        {
            "tax_code": ["0100109106", mst("460010001"), mst("460010001") + "-001", "4600100012"],
            "enterprise_name": [
                "Tập đoàn Công nghiệp - Viễn thông Quân đội",
                "Công ty TNHH Chè Tân Cương",
                "Chi nhánh Công ty TNHH Chè Tân Cương",
                "Công ty Cổ phần Sai Số",
            ],
            "legal_form": ["Doanh nghiệp nhà nước", "Công ty TNHH", "Chi nhánh", "Công ty cổ phần"],
            "industry_code": ["6110", "0127", "0127", "4100"],
            "registered_date": [date(2010, 6, 14), date(2015, 3, 2), date(2018, 7, 1), date(2020, 1, 1)],
            "status": ["Đang hoạt động", "Đang hoạt động", "Tạm ngừng kinh doanh", "Đang hoạt động"],
            "commune_code": [PHAN_DINH_PHUNG, OLD_NGUYEN_THI_MINH_KHAI, QUAN_TRIEU, QUAN_TRIEU],
            "charter_capital_vnd": [1e12, 5e9, None, 1e9],
            "legal_rep_cccd": [None, in_registry, None, None],
            "updated_at": [datetime(2026, 10, 1)] * 4,
        }
    )
    crops = pl.DataFrame(
        {
            "commune_code": ["05503", OLD_NGUYEN_THI_MINH_KHAI],
            "crop": ["Chè", "Lúa"],
            "season_year": [2025, 2025],
            "area_ha": [1_250.5, 80.0],
            "output_tonnes": [14_000.0, 450.0],
        }
    )
    sites = pl.DataFrame(
        {
            "site_code": ["DT01"],
            "site_name": ["Khu di tích lịch sử ATK Định Hóa"],
            "site_type": ["Di tích lịch sử"],
            "ranking": ["Quốc gia đặc biệt"],
            "commune_code": ["05569"],
            "visitors_last_year": [350_000],
        }
    )
    admin_units = pl.DataFrame(
        {
            "province_code": ["19", "19"],
            "province_name": ["Thái Nguyên"] * 2,
            "commune_code": [PHAN_DINH_PHUNG, OLD_NGUYEN_THI_MINH_KHAI],
            "commune_name": ["Phan Đình Phùng", "Nguyễn Thị Minh Khai"],
            "commune_type": ["Phường", "Phường"],
        }
    )
    return {
        "agriculture_crops": crops,
        "tourism_sites": sites,
        "admin_units": admin_units,
        "feedback": feedback,
        "environment_readings": environment,
        "health_facilities": facilities,
        "health_visits": visits,
        "schools": schools,
        "students": students,
        "social_insurance": social_insurance,
        "enterprises": enterprises,
    }


def write_silver(lake: Lake, registry_cccds: list[str]) -> dict[str, pl.DataFrame]:
    tables = frames(registry_cccds)
    for name, frame in tables.items():
        write_deltalake(str(lake.silver(name)), _with_lineage(frame, name).to_arrow(), mode="overwrite")
    return tables


def dbt(lake: Lake, target: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the dbt CLI on the real dbt_project/ against `lake`, writing artefacts and logs under `target` (not
    into the project); raises with dbt's output when it fails."""
    expose_silver(lake)
    env = {**os.environ, "TN_LAKE_DIR": str(lake.root)}
    cli = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [
            str(cli),
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        cwd=DBT_PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}")
    return done

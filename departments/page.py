"""The data-quality page for the province's leaders: one static HTML file, `lake/quality/leaders/index.html`, rebuilt
after every scorecard. It opens offline (inline CSS and inline SVG charts, no script, no font or file fetched) and
shows, in Vietnamese: departments ranked on the six criteria, each department's and dataset's 90-day trend, the
rules broken most often, the freshness of every source, and how each score is computed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import polars as pl
from deltalake import DeltaTable

import quality.scorecard as scorecard_module
from departments.local_time import shown
from departments.messages_vi import row_findings
from departments.paths import DepartmentPaths
from ingestion.catalog import Source
from ingestion.lake import Lake
from quality.results import read_results
from quality.scorecard import CRITERIA, VIETNAMESE

TREND_DAYS = 90
WORST_RULES = 15
# What each criterion asks of a department, in one sentence; the exact formula is quoted from quality/scorecard.py.
MEANING = {
    "correct": "Giá trị đúng quy tắc: mẫu, danh mục, CCCD, mã số thuế, số điện thoại, ngày tháng hợp lý.",
    "complete": "Đủ trường bắt buộc và đủ số dòng so với các ngày trước.",
    "clean": "Ít dòng bị cách ly hoặc trùng lặp.",
    "live": "Dữ liệu được gửi đúng hạn theo thỏa thuận (freshness_hours).",
    "unified": "Mã xã, mã cơ quan, số CCCD khớp với danh mục và cơ sở dữ liệu dân cư.",
    "shared": "Dữ liệu được dùng trong các bảng tổng hợp và dữ liệu mở.",
}


@dataclass(frozen=True)
class PageData:
    day: object
    departments: pl.DataFrame  # latest day, ranked
    datasets: pl.DataFrame  # latest day
    department_trend: pl.DataFrame
    dataset_trend: pl.DataFrame
    worst_rules: pl.DataFrame  # dataset, department, rule, origin, rows
    freshness: pl.DataFrame  # dataset, department, newest, hours, age_hours, fresh
    generated_at: datetime


def formulas() -> dict[str, str]:
    """criterion → its formula, as quality/scorecard.py's docstring table states it."""
    found = {}
    for line in (scorecard_module.__doc__ or "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in CRITERIA:
            found[cells[0]] = cells[2]
    return found


def gather(lake: Lake, catalog: dict[str, Source], now: datetime) -> PageData:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        departments = con.sql("select * from quality.scorecard_department_daily").pl()
        datasets = con.sql("select * from quality.scorecard_daily").pl()
    day = departments["day"].max()
    since = day - timedelta(days=TREND_DAYS - 1) if day else None
    latest = datasets.filter(pl.col("day") == day)
    freshness = latest.select(
        "dataset",
        "department",
        "newest_data_at",
        "freshness_hours",
        age_hours=(pl.lit(now) - pl.col("newest_data_at").dt.convert_time_zone("UTC")).dt.total_seconds() / 3600,
    ).with_columns(fresh=pl.col("age_hours") <= pl.col("freshness_hours"))
    return PageData(
        day=day,
        departments=departments.filter(pl.col("day") == day).sort(
            pl.col("overall").fill_null(-1), "department", descending=[True, False]
        ),
        datasets=latest.sort("department", "dataset"),
        department_trend=departments.filter(pl.col("day") >= since).sort("day") if since else departments,
        dataset_trend=datasets.filter(pl.col("day") >= since).sort("day") if since else datasets,
        worst_rules=worst_rules(lake, catalog),
        freshness=freshness.sort("fresh", "dataset"),
        generated_at=now,
    )


def worst_rules(lake: Lake, catalog: dict[str, Source]) -> pl.DataFrame:
    """The rules with the most rows against them: failed expectations of each suite's latest run, and the reasons
    rows are quarantined for (in the departments' words)."""
    schema = {"dataset": pl.String, "department": pl.String, "rule": pl.String, "origin": pl.String, "rows": pl.Int64}
    parts = [pl.DataFrame(schema=schema)]
    results = read_results(lake)
    if not results.is_empty():
        newest = results.group_by("suite").agg(pl.col("validated_at").max())
        failed = results.join(newest, on=["suite", "validated_at"]).filter(~pl.col("success"))
        parts.append(
            failed.group_by("dataset", "rule", "column", "severity")
            .agg(rows=pl.col("unexpected_count").sum())
            .select(
                "dataset",
                department=pl.col("dataset").replace_strict(
                    {n: s.department for n, s in catalog.items()}, default=None
                ),
                rule=pl.format("{} ({})", "rule", "column"),
                origin=pl.format("kiểm tra chất lượng, mức {}", "severity"),
                rows=pl.col("rows").cast(pl.Int64),
            )
        )
    path = lake.quarantine
    options = lake.storage_options_for(path) or None
    if DeltaTable.is_deltatable(str(path), storage_options=options):
        reasons = (
            pl.scan_delta(str(path), storage_options=options)
            .group_by("source", "stage", "reason")
            .agg(rows=pl.len())
            .collect()
        )
        counted: dict[tuple[str, str], int] = {}
        for row in reasons.iter_rows(named=True):
            source = catalog.get(row["source"])
            if source is None:
                continue
            if row["stage"] == "read":
                key = (source.name, "Không đọc được cả tệp")
                counted[key] = counted.get(key, 0) + row["rows"]
                continue
            for finding in row_findings(source, row["reason"]):
                where = f"«{finding.column.header}»: " if finding.column else ""
                key = (source.name, where + finding.reason)
                counted[key] = counted.get(key, 0) + row["rows"]
        parts.append(
            pl.DataFrame(
                [
                    {
                        "dataset": name,
                        "department": catalog[name].department,
                        "rule": rule,
                        "origin": "dòng bị cách ly",
                        "rows": n,
                    }
                    for (name, rule), n in counted.items()
                ],
                schema=schema,
            )
        )
    return pl.concat(parts).filter(pl.col("rows") > 0).sort("rows", descending=True).head(WORST_RULES)


def _number(value) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def _grade(value) -> str:
    return "na" if value is None else "good" if value >= 95 else "fair" if value >= 80 else "poor"


def _esc(text) -> str:
    return html.escape("" if text is None else str(text))


def sparkline(points: list[tuple[object, float | None]], width: int = 220, height: int = 48) -> str:
    """An inline SVG of `points` (day, 0–100) as a polyline, a dot on each day."""
    known = [(d, v) for d, v in points if v is not None]
    if not known:
        return f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="chưa có dữ liệu"></svg>'
    first = known[0][0]
    span = max(1, (known[-1][0] - first).days)
    xy = [(4 + (width - 8) * (d - first).days / span, 4 + (height - 8) * (1 - v / 100)) for d, v in known]
    if len(xy) == 1:
        xy = [(width / 2, xy[0][1])]
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>' for x, y in xy)
    label = f"{len(known)} ngày, gần nhất {_number(known[-1][1])}"
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_esc(label)}"><line x1="0" y1="{4 + (height - 8) * 0.05:.1f}" x2="{width}" '
        f'y2="{4 + (height - 8) * 0.05:.1f}" class="target"/><polyline points="{coords}"/>{dots}</svg>'
    )


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1b2733;background:#f4f6f8}
header{background:#8b1a1a;color:#fff;padding:18px 28px}header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;opacity:.9}main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:18px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:19px;margin:0 0 12px;color:#8b1a1a}table{border-collapse:collapse;width:100%}
th,td{padding:6px 8px;border-bottom:1px solid #e3e7eb;text-align:left;vertical-align:middle}
th{background:#f0f2f4;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.good{background:#e3f4e8}td.fair{background:#fff4d6}td.poor{background:#fde2e1;font-weight:600}
td.na{color:#8a96a3}.rank{font-weight:700;font-size:18px;text-align:center}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.card{border:1px solid #e3e7eb;border-radius:6px;padding:8px 10px}.card h3{font-size:14px;margin:0 0 4px}
svg.spark polyline{fill:none;stroke:#8b1a1a;stroke-width:2}svg.spark circle{fill:#8b1a1a}
svg.spark line.target{stroke:#3a9a5b;stroke-dasharray:3 3}.late{color:#b3261e;font-weight:600}
.ok{color:#1e7a3c}.note{color:#5b6875;font-size:13px}dl dt{font-weight:600;margin-top:8px}dl dd{margin:2px 0 0 16px}
"""


def render(data: PageData) -> str:
    day = data.day.strftime("%d/%m/%Y") if data.day else "–"
    generated = shown(data.generated_at)
    parts = [
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Chất lượng dữ liệu các sở, ngành – Kho dữ liệu dùng chung tỉnh Thái Nguyên</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>Chất lượng dữ liệu các sở, ngành</h1>",
        f"<p>Kho dữ liệu dùng chung tỉnh Thái Nguyên · Đúng – đủ – sạch – sống – thống nhất – dùng chung · "
        f"ngày chấm điểm {day} · cập nhật {generated}</p></header><main>",
        _ranking(data),
        _trends(data),
        _worst(data),
        _freshness(data),
        _method(),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _score_cells(row: dict) -> str:
    return "".join(
        f'<td class="num {_grade(row[c])}" data-criterion="{c}">{_number(row[c])}</td>' for c in (*CRITERIA, "overall")
    )


def _criteria_header() -> str:
    return "".join(f"<th>{VIETNAMESE[c]}</th>" for c in CRITERIA) + "<th>Tổng hợp</th>"


def _ranking(data: PageData) -> str:
    rows = "".join(
        f'<tr data-department="{_esc(r["department"])}"><td class="rank">{i}</td><td>{_esc(r["department"])}</td>'
        f'<td class="num">{r["datasets"]}</td>{_score_cells(r)}</tr>'
        for i, r in enumerate(data.departments.iter_rows(named=True), start=1)
    )
    datasets = "".join(
        f'<tr data-dataset="{_esc(r["dataset"])}"><td>{_esc(r["department"])}</td><td>{_esc(r["dataset"])}</td>'
        f"{_score_cells(r)}</tr>"
        for r in data.datasets.iter_rows(named=True)
    )
    return (
        '<section id="xep-hang"><h2>Xếp hạng các đơn vị (điểm 0–100)</h2>'
        f'<table id="departments"><thead><tr><th>Hạng</th><th>Đơn vị</th><th>Số bộ dữ liệu</th>{_criteria_header()}'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        '<p class="note">Điểm của đơn vị là trung bình điểm các bộ dữ liệu của đơn vị; «–»: tiêu chí không áp dụng. '
        "Xanh: từ 95; vàng: từ 80; đỏ: dưới 80.</p>"
        '<h2>Theo bộ dữ liệu</h2><table id="datasets"><thead><tr><th>Đơn vị</th><th>Bộ dữ liệu</th>'
        f"{_criteria_header()}</tr></thead><tbody>{datasets}</tbody></table></section>"
    )


def _trend_cards(trend: pl.DataFrame, by: str) -> str:
    cards = []
    for (name,), rows in sorted(trend.group_by(by), key=lambda g: g[0][0]):
        points = list(zip(rows["day"], rows["overall"]))
        cards.append(f'<div class="card"><h3>{_esc(name)}</h3>{sparkline(points)}</div>')
    return f'<div class="grid">{"".join(cards)}</div>'


def _trends(data: PageData) -> str:
    return (
        f'<section id="xu-huong"><h2>Xu hướng điểm tổng hợp {TREND_DAYS} ngày</h2><h3>Theo đơn vị</h3>'
        f"{_trend_cards(data.department_trend, 'department')}<h3>Theo bộ dữ liệu</h3>"
        f"{_trend_cards(data.dataset_trend, 'dataset')}"
        '<p class="note">Đường chấm xanh: mức 95 điểm.</p></section>'
    )


def _worst(data: PageData) -> str:
    rows = "".join(
        f"<tr><td>{_esc(r['department'])}</td><td>{_esc(r['dataset'])}</td><td>{_esc(r['rule'])}</td>"
        f'<td>{_esc(r["origin"])}</td><td class="num">{_thousands(r["rows"])}</td></tr>'
        for r in data.worst_rules.iter_rows(named=True)
    )
    empty = '<tr><td colspan="5">Không có quy tắc nào bị vi phạm.</td></tr>'
    return (
        '<section id="quy-tac"><h2>Các quy tắc bị vi phạm nhiều nhất</h2><table id="worst-rules"><thead><tr>'
        "<th>Đơn vị</th><th>Bộ dữ liệu</th><th>Quy tắc</th><th>Phát hiện qua</th><th>Số dòng</th></tr></thead>"
        f"<tbody>{rows or empty}</tbody></table></section>"
    )


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _freshness(data: PageData) -> str:
    rows = []
    for r in data.freshness.iter_rows(named=True):
        newest = shown(r["newest_data_at"]) if r["newest_data_at"] else "–"
        if r["newest_data_at"] is None:
            status = '<span class="late">Chưa có dữ liệu</span>'
        elif r["fresh"]:
            status = '<span class="ok">Đúng hạn</span>'
        else:
            status = f'<span class="late">Quá hạn {int(r["age_hours"] - r["freshness_hours"])} giờ</span>'
        rows.append(
            f'<tr data-freshness="{_esc(r["dataset"])}"><td>{_esc(r["department"])}</td><td>{_esc(r["dataset"])}</td>'
            f'<td>{newest}</td><td class="num">{int(r["freshness_hours"])}</td><td>{status}</td></tr>'
        )
    return (
        '<section id="cap-nhat"><h2>Tình trạng cập nhật của các nguồn</h2><table id="freshness"><thead><tr>'
        "<th>Đơn vị</th><th>Bộ dữ liệu</th><th>Lần gửi gần nhất</th><th>Hạn cập nhật (giờ)</th><th>Trạng thái</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _method() -> str:
    found = formulas()
    items = "".join(
        f"<dt>{VIETNAMESE[c]} ({c})</dt><dd>{_esc(MEANING[c])}</dd>"
        f'<dd class="note">Công thức: {_esc(re.sub(r"`", "", found.get(c, "")))}</dd>'
        for c in CRITERIA
    )
    return (
        '<section id="cach-tinh"><h2>Cách tính điểm</h2><dl>'
        f"{items}<dt>Tổng hợp</dt><dd>Trung bình các tiêu chí áp dụng; điểm đơn vị là trung bình các bộ dữ liệu.</dd>"
        '</dl><p class="note">Công thức trích từ quality/scorecard.py, nơi duy nhất định nghĩa cách tính.</p></section>'
    )


def write_page(lake: Lake, catalog: dict[str, Source], now: datetime) -> tuple[str, PageData]:
    """Rebuild the page; returns its path and what it shows."""
    data = gather(lake, catalog, now)
    path = DepartmentPaths.of(lake).leaders_page
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    partial.write_text(render(data), encoding="utf-8")
    partial.replace(path)
    return str(path), data

"""The province's rule for its data, "Đúng - đủ - sạch - sống - thống nhất - dùng chung", as six 0–100 scores.

This module is the one place that defines the formulas. Per dataset (catalog source) and day:

| criterion | Vietnamese | score (0–100) |
|---|---|---|
| correct  | Đúng        | 100 × valid values / checked values of the validity rules (`meta.dimension == "validity"`: patterns, allowed values, CCCD province, MST check digit, mobile numbers, date ranges) over the whole table: Σ (element_count − missing_count − unexpected_count) / Σ (element_count − missing_count), summed over the dataset's latest whole-table validation and the batch validations after it (each row once: `scorecard_signals.covering_runs`); a rule and its warning twin counted once |
| complete | Đủ          | 50 × required-field fill rate on the raw (bronze) rows + 50 × min(1, silver rows / expected rows); expected rows = the most silver rows on any of the previous 7 scored days (none yet: 1); 0 when nothing landed |
| clean    | Sạch        | 100 × (1 − (quarantined rows + exact duplicate bronze rows) / bronze rows), floored at 0 |
| live     | Sống        | 100 while the newest delivery (max `_ingested_at`) is within the contract's `freshness_hours`, falling linearly to 0 at twice that age; 0 with no data |
| unified  | Thống nhất  | 100 × values that resolve / values checked, over commune codes (resolve = a current unit, directly or through the official 2025 old→new mapping) and master-data references (`MASTER_DATA`: agency codes → agencies; citizen CCCDs in other datasets → the population registry); empty when a dataset has none |
| shared   | Dùng chung  | 100 if the dataset feeds a mart that is published as an open export (lake/published/), 50 if it feeds a warehouse mart only, 0 otherwise |

`overall` is the mean of the criteria that apply. A department's score is the mean of its datasets'.

Every criterion is measured at value level, on the whole table: a dataset with 5 % invalid values scores lower
than one with 0.5 % (an expectation-level "correct" gave both 100 when neither crossed a gate's threshold).
"correct" adds the batch gates' counts up to the whole-table figure; the other five read the Delta tables
themselves (bronze, silver, quarantine) each time, so batch validation does not change them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

import polars as pl

CRITERIA = ("correct", "complete", "clean", "live", "unified", "shared")
VIETNAMESE = {
    "correct": "Đúng",
    "complete": "Đủ",
    "clean": "Sạch",
    "live": "Sống",
    "unified": "Thống nhất",
    "shared": "Dùng chung",
}
BASELINE_DAYS = 7
SHARED_PUBLISHED, SHARED_MART_ONLY = 100.0, 50.0


@dataclass(frozen=True)
class DatasetSignals:
    """What the scores are computed from; gathered from the lake by `quality.scorecard_signals`."""

    dataset: str
    department: str
    day: date
    as_of: datetime
    validity_run: int = 0  # values checked by validity rules over the whole table (see the docstring's table)
    validity_passed: int = 0  # of which valid
    required_cells: int = 0  # bronze rows × required columns
    required_filled: int = 0
    rows: int = 0  # silver rows
    expected_rows: int | None = None
    bronze_rows: int = 0
    duplicate_rows: int = 0  # bronze rows identical (on every contract column) to an earlier one
    quarantined_rows: int = 0
    newest_data_at: datetime | None = None
    freshness_hours: float = 24
    resolvable_values: int = 0
    resolved_values: int = 0
    in_mart: bool = False
    published: bool = False


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else 100.0 * part / whole


def score(s: DatasetSignals) -> dict[str, float | None]:
    """The six scores of one dataset on one day (see the module docstring for the formulas)."""
    fill = s.required_filled / s.required_cells if s.required_cells else 1.0
    volume = min(1.0, s.rows / s.expected_rows) if s.expected_rows else 1.0
    complete = 0.0 if not (s.bronze_rows or s.rows) else 50.0 * fill + 50.0 * volume
    if s.newest_data_at is None:
        live = 0.0
    else:
        age_hours = max(0.0, (s.as_of - s.newest_data_at).total_seconds() / 3600)
        overdue = max(0.0, age_hours - s.freshness_hours) / s.freshness_hours
        live = 100.0 * max(0.0, 1.0 - overdue)
    clean = None
    if s.bronze_rows:
        clean = 100.0 * max(0.0, 1.0 - (s.quarantined_rows + s.duplicate_rows) / s.bronze_rows)
    scores = {
        "correct": _share(s.validity_passed, s.validity_run),
        "complete": complete,
        "clean": clean,
        "live": live,
        "unified": _share(s.resolved_values, s.resolvable_values),
        "shared": SHARED_PUBLISHED if s.published else SHARED_MART_ONLY if s.in_mart else 0.0,
    }
    applicable = [v for v in scores.values() if v is not None]
    scores["overall"] = sum(applicable) / len(applicable) if applicable else None
    return {k: None if v is None else round(v, 1) for k, v in scores.items()}


SCORECARD_SCHEMA = {
    "day": pl.Date,
    "department": pl.String,
    "dataset": pl.String,
    **{c: pl.Float64 for c in (*CRITERIA, "overall")},
    "rows": pl.Int64,
    "bronze_rows": pl.Int64,
    "quarantined_rows": pl.Int64,
    "duplicate_rows": pl.Int64,
    "validity_run": pl.Int64,
    "validity_passed": pl.Int64,
    "required_fill_rate": pl.Float64,
    "expected_rows": pl.Int64,
    "newest_data_at": pl.Datetime("us", "UTC"),
    "freshness_hours": pl.Float64,
    "resolvable_values": pl.Int64,
    "resolved_values": pl.Int64,
    "in_mart": pl.Boolean,
    "published": pl.Boolean,
    "scored_at": pl.Datetime("us", "UTC"),
}


def scorecard(signals: list[DatasetSignals]) -> pl.DataFrame:
    """One row per dataset: the scores and the signals behind them (so every number can be traced)."""
    rows = []
    for s in signals:
        raw = asdict(s)
        rows.append(
            {
                **{k: raw[k] for k in SCORECARD_SCHEMA if k in raw},
                **score(s),
                "required_fill_rate": s.required_filled / s.required_cells if s.required_cells else None,
                "scored_at": s.as_of,
            }
        )
    return pl.DataFrame(rows, schema=SCORECARD_SCHEMA).sort("department", "dataset")


def by_department(card: pl.DataFrame) -> pl.DataFrame:
    """A department's score on a criterion is the mean of its datasets' scores (those that apply)."""
    return (
        card.group_by("day", "department")
        .agg(pl.len().alias("datasets"), *[pl.col(c).mean().round(1) for c in (*CRITERIA, "overall")])
        .sort("day", "department")
    )


def markdown(card: pl.DataFrame) -> str:
    """The day's scorecard as a markdown table (Dagster metadata, reports)."""
    header = ["department", "dataset", *[f"{c} ({VIETNAMESE[c]})" for c in CRITERIA], "overall"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in card.iter_rows(named=True):
        cells = [
            row["department"],
            row["dataset"],
            *["–" if row[c] is None else f"{row[c]:.1f}" for c in (*CRITERIA, "overall")],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

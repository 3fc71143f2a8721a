"""One more day of extracts for the incremental refresh: what the daily sources would send the next morning.

Daily sources: dossiers (one CSV per day), environment readings (one NDJSON per day) and health visits (a new
UTF-16 "Unicode Text" export holding one day of visits). The rows come from the sample generator's own makers,
dated the day after the landing zone's last day, with keys that are new (no row supersedes an existing one).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from bench.scales import NAMES as _REGISTERED  # noqa: F401 - registers the bench scales (medium) in sd.SCALES
from ingestion import sample_data as sd
from ingestion.catalog import load_catalog
from ingestion.extracts import read_extract


def add_extra_day(
    landing: Path, scale: str, seed: int = 19, *, days_after: int = 1, only: tuple[str, ...] | None = None
) -> dict[str, dict]:
    """Write the files of the day `days_after` the sample's last into `landing` (only the sources in `only`, when
    given); returns {source: {file, rows}}."""
    size = sd.SCALES[scale]
    catalog = load_catalog()
    day = sd.DEFAULT_END + timedelta(days=days_after)
    rng = np.random.default_rng(seed + 1)
    cccd = sd.make_citizens(np.random.default_rng(seed), size.citizens)["cccd"].to_numpy()
    written = {}

    def put(name: str, frame: pl.DataFrame, file_name: str) -> None:
        if only is not None and name not in only:
            return
        source = catalog[name]
        path = landing / source.pattern.split("/")[0] / file_name
        sd._write(frame.select(source.column_names), source, path)
        written[name] = {"file": str(path.relative_to(landing)), "rows": frame.height}

    # Dossiers: the generator spreads n over DAYS_COVERED days ending `end`; keep the last day's share.
    dossiers = sd.make_dossiers(rng, size.dossiers, cccd, day).filter(pl.col("_day") == day.isoformat())
    put("dossiers", dossiers, f"dossiers_{day}.csv")

    per_day = 24 * len(sd.STATIONS) * len(sd.PARAMETERS)
    put("environment_readings", sd.make_environment(rng, per_day, day), f"quan_trac_{day}.ndjson")

    facilities_source = catalog["health_facilities"]
    facilities_file = next((landing / facilities_source.pattern.split("/")[0]).glob("*"))
    facilities = read_extract(facilities_source, facilities_file).frame["facility_code"].drop_nulls().to_numpy()
    n_visits = max(size.health_visits // sd.DAYS_COVERED, 1)
    visits = sd.make_health_visits(rng, n_visits, cccd, facilities, day).with_columns(
        visit_id=pl.lit(f"KCB{day:%Y%m%d}-") + pl.col("visit_id").str.slice(3),
        visit_date=pl.lit(day.strftime("%d/%m/%Y")),
    )
    put("health_visits", visits, f"luot_kham_{day:%Y%m%d}.txt")
    return written

"""Start ingestion when a file lands: a sensor over the landing zone, one run per batch of new or changed files.

The cursor holds each landing file's size and modification time (cheap to list, even for big extracts); the
run it starts ingests only what is new, because bronze skips any file whose content hash it already holds.
"""

import hashlib
import json

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    sensor,
)

from ingestion.extracts import landing_files
from ingestion.lake import Lake
from orchestration.ingestion_assets import CATALOG, bronze_key, silver_key
from orchestration.resources import LakeResource

ingest_landed_files = define_asset_job(
    "ingest_landed_files",
    selection=AssetSelection.groups("bronze", "silver"),
    description="Bronze and silver for the sources with new landing files (started by the landing sensor).",
)


def landing_signatures(lake: Lake) -> dict[str, dict[str, str]]:
    """source → {file relative to landing: 'size:mtime_ns'}."""
    signatures = {}
    for name, source in CATALOG.items():
        files = {}
        for path in landing_files(source, lake.landing):
            stat = path.stat()
            files[str(path.relative_to(lake.landing))] = f"{stat.st_size}:{stat.st_mtime_ns}"
        signatures[name] = files
    return signatures


def changed_sources(previous: dict, current: dict) -> dict[str, list[str]]:
    """Sources with files that are new or changed since `previous` (a removed file starts nothing)."""
    changed = {}
    for name, files in current.items():
        seen = previous.get(name, {})
        new = sorted(f for f, signature in files.items() if seen.get(f) != signature)
        if new:
            changed[name] = new
    return changed


@sensor(
    job=ingest_landed_files,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Starts bronze+silver ingestion of the sources whose landing folders got new or changed files.",
)
def landing_zone_sensor(context: SensorEvaluationContext, lake_resource: LakeResource):
    lake = lake_resource.lake()
    previous = json.loads(context.cursor) if context.cursor else {}
    current = landing_signatures(lake)
    changed = changed_sources(previous, current)
    if not changed:
        return SkipReason(f"no new files in {lake.landing}")
    keys = [key for name in changed for key in (bronze_key(CATALOG[name]), silver_key(CATALOG[name]))]
    run_key = hashlib.sha256(
        json.dumps({n: {f: current[n][f] for f in fs} for n, fs in changed.items()}, sort_keys=True).encode()
    ).hexdigest()[:16]
    context.log.info("new landing files: " + "; ".join(f"{n}: {', '.join(fs)}" for n, fs in changed.items()))
    return SensorResult(
        run_requests=[
            RunRequest(run_key=run_key, asset_selection=keys, tags={"landing_sources": ",".join(sorted(changed))})
        ],
        cursor=json.dumps(current, sort_keys=True),
    )

"""Bronze then silver for one source, the way the Dagster assets call them, without Dagster: for tests that need
a lake's Delta tables as ingestion leaves them."""

from ingestion.bronze import load_bronze
from ingestion.silver import build_silver


def ingest(lake, source):
    load = load_bronze(
        source,
        lake.landing,
        lake.bronze(source.name),
        log=lambda _: None,
        quarantine_path=lake.quarantine,
        log_path=lake.ingestion_log,
    )
    build = build_silver(
        source, lake.bronze(source.name), lake.silver(source.name), lake.quarantine, lake.ingestion_log
    )
    return load, build

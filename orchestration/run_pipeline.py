"""Run the whole warehouse refresh once, from the command line, and print what it built.

    python -m orchestration.run_pipeline            # generates sample extracts if the landing zone is empty
    python -m orchestration.run_pipeline --all      # every asset, whatever changed

Runs the `warehouse_refresh` job in process against the project's Dagster instance (DAGSTER_HOME, default
`.dagster_home/`), so the run also shows in the Dagster UI. It runs what the nightly schedule would
(orchestration/change_detection.py): on a fresh lake everything, then only the sources with new extracts and what is
downstream of them, and nothing at all when nothing is new.
"""

import argparse
import os
import sys

import duckdb
import polars as pl
from deltalake import DeltaTable

from ingestion.lake import PROJECT_ROOT, Lake
from ingestion.sample_data import SCALES, generate


def _dagster_instance():
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
    from dagster import DagsterInstance

    from orchestration.instance import prepare_dagster_home

    prepare_dagster_home()  # dagster.yaml from deploy/ (PostgreSQL when TN_DAGSTER_PG_URL is set)

    return DagsterInstance.get()


def ensure_local_pseudonym_key() -> None:
    """For a developer's run only: without TN_PSEUDONYM_KEY, make (once) a random key in DAGSTER_HOME (git-ignored)
    and export it for this run, so the README's first command works and pseudonyms stay stable between local runs.
    The shared-outputs asset itself still refuses without the variable: production sets it from its secret store."""
    from sharing.pseudonym import KEY_VARIABLE

    if os.environ.get(KEY_VARIABLE):
        return
    if Lake.from_env().root != (PROJECT_ROOT / "lake").resolve():
        return  # a lake elsewhere (TN_LAKE_DIR) is not the local sample: the asset will refuse, naming the variable
    import secrets

    home = os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))
    os.makedirs(home, exist_ok=True)
    path = os.path.join(home, "pseudonym_key.local")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    with open(path, encoding="utf-8") as f:
        os.environ[KEY_VARIABLE] = f.read().strip()
    print(
        f"{KEY_VARIABLE} not set: using the local development key in {path} (sample data only). "
        f"Production must set {KEY_VARIABLE} from its secret store."
    )


def run_refresh(instance=None, asset_selection=None, defs=None):
    """Execute the refresh job (or the selected assets of it); returns Dagster's ExecuteInProcessResult (failures
    are in it, not raised)."""
    from orchestration.definitions import build_defs
    from orchestration.orphaned_runs import fail_dead_local_runs, free_orphaned_slots, runner_tags

    instance = instance or _dagster_instance()
    for run_id in free_orphaned_slots(instance):
        print(f"freed the warehouse pool slot of run {run_id} (its process had ended)")
    for run_id in fail_dead_local_runs(instance):
        print(f"marked run {run_id} failed (its process had ended)")
    job = (defs or build_defs()).resolve_job_def("warehouse_refresh")  # the lake of the current environment
    return job.execute_in_process(
        instance=instance,
        asset_selection=asset_selection,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        tags=runner_tags(),
    )


def lake_report(lake: Lake, problems: list[str] | None = None) -> list[tuple[str, int]]:
    """(table, rows) for every Delta table and every warehouse table, for people to read. With `problems`, a
    warehouse another process holds is said there (its tables left out) instead of raising DuckDB's lock error."""
    rows = []
    for layer in ("bronze", "silver"):
        for path in sorted((lake.root / layer).glob("*")):
            if DeltaTable.is_deltatable(str(path)):
                rows.append((f"{layer}/{path.name}", pl.scan_delta(str(path)).select(pl.len()).collect().item()))
    if DeltaTable.is_deltatable(str(lake.quarantine)):
        rows.append(("quarantine", pl.scan_delta(str(lake.quarantine)).select(pl.len()).collect().item()))
    if lake.warehouse.exists():
        try:
            rows += _warehouse_rows(lake)
        except duckdb.IOException as error:
            if problems is None or "lock" not in str(error).lower():
                raise
            from orchestration.resources import warehouse_lock_error

            failure = warehouse_lock_error(lake.warehouse)
            problems.append(
                f"warehouse tables not listed: {failure.description if failure else f'{lake.warehouse} is locked'}"
            )
    return rows


def _warehouse_rows(lake: Lake) -> list[tuple[str, int]]:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('conformed', 'marts') order by 1, 2"
        ).fetchall()
        count = 'select count(*) from "{}"."{}"'
        return [
            (f"warehouse.duckdb {schema}.{table}", con.execute(count.format(schema, table)).fetchone()[0])
            for schema, table in tables
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="small",
        help="sample size to generate when the landing zone is empty",
    )
    parser.add_argument("--all", action="store_true", help="run every asset, not only what changed")
    args = parser.parse_args()
    lake = Lake.from_env()
    if not any(lake.landing.glob("*/*")):
        counts = generate(lake.landing, args.scale)
        print(f"generated sample extracts in {lake.landing}: {counts}")

    ensure_local_pseudonym_key()
    from orchestration.dbt_project import prepare_manifest

    prepare_manifest()
    from orchestration.change_detection import plan_refresh
    from orchestration.definitions import build_defs

    instance, defs = _dagster_instance(), build_defs()
    selection = None
    if not args.all:
        plan = plan_refresh(instance, defs.resolve_asset_graph(), lake)
        if not plan:
            print(f"nothing to refresh: {plan.reason} (--all runs every asset anyway)")
            return 0
        print(f"refreshing {'every asset' if plan.whole else f'{len(plan.keys)} assets'}: {plan.reason}")
        selection = None if plan.whole else list(plan.keys)
    result = run_refresh(instance, selection, defs)
    for evaluation in result.get_asset_check_evaluations():
        verdict = "passed" if evaluation.passed else f"FAILED ({evaluation.severity.value})"
        print(f"check {evaluation.asset_check_key.to_user_string()}: {verdict}")
    print(f"\nrun {result.run_id}: {'succeeded' if result.success else 'FAILED'}\n")
    print(f"{'table':<62} {'rows':>10}")
    problems: list[str] = []
    for table, count in lake_report(lake, problems):
        print(f"{table:<62} {count:>10,}")
    for problem in problems:
        print(f"\n{problem}")
    print(f"\nAnalysts: open {lake.warehouse} read-only with DuckDB (see README, 'Querying the marts')")
    if lake.shared_marts.exists():
        from orchestration.shared_outputs import SHARED_MARTS

        # a refused (or skipped) build leaves the previous file: say so rather than vouch for this run
        built = SHARED_MARTS in {e.asset_key for e in result.get_asset_materialization_events()}
        print(
            f"Shared marts (no raw personal data): {lake.shared_marts}; "
            if built
            else f"Shared marts NOT rebuilt by this run (refused or not run, see its log): {lake.shared_marts} is the "
            "previous file; ",
            f'query it with `python -m sharing.query "SQL"`; open data: {lake.open_data / "catalog.json"}',
            sep="",
        )
    return 0 if result.success and not problems else 1


if __name__ == "__main__":
    sys.exit(main())

"""Running dbt on a lake's warehouse from an op or asset: one place that checks the file is free, points dbt's
profile at the lake, and tidies the run directories dagster-dbt leaves under dbt_project/target/."""

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from dagster import AssetExecutionContext, OpExecutionContext
from dagster_dbt import DbtCliInvocation, DbtCliResource

from ingestion.lake import Lake
from orchestration.dbt_project import DBT_PROJECT_DIR, dbt_project
from orchestration.resources import warehouse_lock_error

KEEP_RUN_TARGETS = 30  # dbt run directories kept per op under dbt_project/target/ (a month of nightly refreshes)


def run_dbt(
    context: AssetExecutionContext | OpExecutionContext,
    dbt: DbtCliResource,
    lake: Lake,
    args: Sequence[str],
    **cli_options,
) -> DbtCliInvocation:
    """Start `dbt <args>` on the lake's warehouse in a run directory named after the op (`<op>-<run id>-…`); a dbt
    asset's context goes to dagster-dbt, which selects its nodes and names the directory itself."""
    if (failure := warehouse_lock_error(lake.warehouse)) is not None:
        raise failure
    os.environ["TN_LAKE_DIR"] = str(lake.root)  # dbt runs in dbt_project/; its profile reads the lake's path here
    if isinstance(context, AssetExecutionContext):
        return dbt.cli(list(args), context=context, **cli_options)
    run_name = f"{context.op.name}-{context.run.run_id[:7]}"
    return dbt.cli(list(args), target_path=Path(dbt_project.target_path) / run_name, **cli_options)


def tidy_run_target(context: AssetExecutionContext | OpExecutionContext, invocation: DbtCliInvocation) -> None:
    """After a dbt invocation: hand its partial-parse state back, and remove the op's old run directories."""
    _keep_partial_parse(invocation.target_path)
    pruned = prune_run_targets(invocation.target_path)
    if pruned:
        context.log.info(f"removed {len(pruned)} old dbt run directories (keeping the newest {KEEP_RUN_TARGETS})")


def prune_run_targets(run_target: Path, keep: int | None = None) -> list[Path]:
    """dagster-dbt gives every run its own target directory beside `run_target` (compiled SQL, run_results.json,
    dbt.log: ~6 MB a run, ~2 GB a year of nightly refreshes). Keep the newest `keep` of the same op (they answer
    "what did that run execute?"), remove the rest; returns what was removed."""
    keep = KEEP_RUN_TARGETS if keep is None else keep
    prefix = run_target.name.split("-")[0]  # the op name: <op>-<run id>[-<hash>]
    runs = sorted(
        (p for p in run_target.parent.glob(f"{prefix}-*") if p.is_dir() and p != run_target),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    removed = runs[max(keep - 1, 0) :]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


def _keep_partial_parse(run_target: Path) -> None:
    """Hand this run's partial-parse state back to the project's target/, which dagster-dbt copies into the next
    run: otherwise every run re-parses the whole project ("profile has changed": the state from `dbt parse` at
    import time was made with another TN_LAKE_DIR), a fixed few seconds per refresh."""
    built = run_target / "partial_parse.msgpack"
    if built.exists():
        target = DBT_PROJECT_DIR / dbt_project.target_path  # `target` unless configured absolute
        staged = target / f".partial_parse.{os.getpid()}.tmp"
        shutil.copyfile(built, staged)
        os.replace(staged, target / "partial_parse.msgpack")

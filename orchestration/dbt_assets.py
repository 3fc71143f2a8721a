"""The dbt project as Dagster assets: sources join the silver assets, models and dbt tests appear in the graph."""

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ingestion.lake import PROJECT_ROOT, Lake

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
KEEP_RUN_TARGETS = 30  # dbt run directories kept under dbt_project/target/ (a month of nightly refreshes)
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _manifest_is_stale() -> bool:
    """True when the manifest is missing or older than any model, seed, macro or config file."""
    if not dbt_project.manifest_path.exists():
        return True
    built = dbt_project.manifest_path.stat().st_mtime
    watched = [p for d in ("models", "seeds", "macros", "snapshots", "tests") for p in (DBT_PROJECT_DIR / d).rglob("*")]
    watched += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    return any(p.is_file() and p.stat().st_mtime > built for p in watched)


if _manifest_is_stale():
    dbt_project.preparer.prepare(dbt_project)


class WarehouseTranslator(DagsterDbtTranslator):
    """Models are keyed and grouped by their warehouse schema (staging, conformed, marts, reference)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=WarehouseTranslator(), pool="warehouse_duckdb")
def warehouse_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
    # dbt runs in dbt_project/; hand it the lake's absolute path so a relative TN_LAKE_DIR still means the same place.
    os.environ["TN_LAKE_DIR"] = str(Lake.from_env().root)
    invocation = dbt.cli(["build"], context=context)
    yield from invocation.stream()
    _keep_partial_parse(invocation.target_path)
    pruned = prune_run_targets(invocation.target_path)
    if pruned:
        context.log.info(f"removed {len(pruned)} old dbt run directories (keeping the newest {KEEP_RUN_TARGETS})")


def prune_run_targets(run_target: Path, keep: int | None = None) -> list[Path]:
    """dagster-dbt gives every run its own target directory beside `run_target` (compiled SQL, run_results.json,
    dbt.log: ~6 MB a run, ~2 GB a year of nightly refreshes). Keep the newest `keep` (they answer "what did that
    run execute?"), remove the rest; returns what was removed."""
    keep = KEEP_RUN_TARGETS if keep is None else keep
    prefix = run_target.name.split("-")[0]  # the op name: warehouse_dbt_assets-<run id>-<hash>
    runs = sorted((p for p in run_target.parent.glob(f"{prefix}-*") if p.is_dir() and p != run_target),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    removed = runs[max(keep - 1, 0):]
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

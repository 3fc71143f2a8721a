"""The one change detector: what a refresh has to run, for the nightly schedule, the landing sensor, `run_pipeline`
and the bench alike.

- The sources with something new (ingestion/landing_changes.py: landing files not ingested yet, bronze files silver
  has not applied) → their bronze and silver assets and everything downstream of them (silver views, dbt models,
  published marts, the scorecard, the shared file, open data); checks come with their assets.
- When a source changed and an asset was never materialized in this instance (a first run, a model added by a
  deployment) → the whole job: a dbt test can span a selected model and one that does not exist yet.
- Otherwise nothing: the tick or sensor skips without starting a run. An asset that stays unbuilt because a blocking
  gate failed upstream waits for new data (or `run_pipeline --all`) instead of a rerun of everything every tick.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from dagster import AssetKey, AssetSelection, DagsterInstance

from ingestion.lake import Lake
from ingestion.landing_changes import SourceChange, changed_sources


@dataclass(frozen=True)
class RefreshPlan:
    changed: dict[str, SourceChange]
    never_built: tuple[AssetKey, ...]
    keys: tuple[AssetKey, ...]  # what to run, sorted; empty: nothing to do
    whole: bool  # every asset of the job

    def __bool__(self) -> bool:
        return bool(self.keys)

    @property
    def reason(self) -> str:
        parts = [f"{name}: {change.reason}" for name, change in sorted(self.changed.items())]
        if self.never_built and self.whole:
            parts.append(f"{len(self.never_built)} asset(s) never built, e.g. {self.never_built[0].to_user_string()}")
        return "; ".join(parts) or "no source landed new extracts and every asset is built"

    @property
    def tags(self) -> dict[str, str]:
        return {"warehouse/changed_sources": ",".join(sorted(self.changed)), "warehouse/whole": str(self.whole)}

    @property
    def signature(self) -> str:
        """Stable for the same new files and unbuilt assets: a sensor's run key (Dagster skips a repeated key)."""
        content = {
            "changed": {n: [sorted(c.new_files.items()), sorted(c.unapplied)] for n, c in self.changed.items()},
            "whole": self.whole,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def plan_refresh(instance: DagsterInstance, asset_graph, lake: Lake) -> RefreshPlan:
    """What the `warehouse_refresh` job should run now for `lake`, given what `instance` has built."""
    everything = AssetSelection.all().resolve(asset_graph)
    built = {
        record.asset_entry.asset_key
        for record in instance.get_asset_records(list(everything))
        if record.asset_entry.last_materialization_record is not None
    }
    never_built = tuple(sorted(everything - built, key=lambda k: k.to_user_string()))
    changed = changed_sources(lake)
    if changed and never_built:
        keys = everything
    elif changed:
        roots = [AssetKey([layer, name]) for name in changed for layer in ("bronze", "silver")]
        keys = AssetSelection.assets(*roots).downstream().resolve(asset_graph)
    else:
        keys = set()
    ordered = tuple(sorted(keys, key=lambda k: k.to_user_string()))
    return RefreshPlan(changed, never_built, ordered, whole=bool(keys) and keys == everything)

"""A source's bronze or silver suite on the rows it covers (its batch, or the whole table: `quality/batch.py`), the
outcome kept in the results table and in the GX store for the run's Data Docs. The asset checks and the whole-table
validation job both go through `validate_layer`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import polars as pl
from deltalake.exceptions import DeltaError

from ingestion.catalog import Source
from ingestion.duckdb_delta import open_delta, quoted
from ingestion.lake import Lake
from quality.batch import BATCH, REPLACED, Coverage, batch_coverage, whole_table
from quality.gx_runner import WHERE_FROM, SuiteOutcome, validate_sql
from quality.results import append_results, result_rows, scan_results, store_validation_result
from quality.suites import bronze_suite, key_not_already_present, silver_suite

LAYERS = ("bronze", "silver")


@dataclass(frozen=True)
class LayerValidation:
    suite: str
    coverage: Coverage
    outcome: SuiteOutcome | None  # None: the batch was empty, nothing to validate
    replaced: SuiteOutcome | None = None  # an upsert batch: the validity rules on the rows it replaced, as they were

    @property
    def passed(self) -> bool:
        return self.outcome is None or self.outcome.passed


def suite_name(layer: str, source: Source) -> str:
    return f"{layer}_{source.name}"


def _coverage(lake: Lake, layer: str, source: Source, whole_reason: str | None) -> Coverage:
    path = lake.bronze(source.name) if layer == "bronze" else lake.silver(source.name)
    table = open_delta(path, lake.storage_options_for(path))
    if whole_reason:
        return whole_table(table, whole_reason)
    name = suite_name(layer, source)
    results = (
        scan_results(lake)
        .filter((pl.col("layer") == layer) & (pl.col("suite") == name))
        .select("suite", "run_id", "validated_at", "scope", "covered_version", "covered_until", "success", "severity")
        .collect()
    )
    return batch_coverage(table, results, name)


def _expectations(layer: str, source: Source, coverage: Coverage) -> list:
    if layer == "bronze":
        return bronze_suite(source)
    expectations = silver_suite(source)
    if coverage.scope == BATCH:  # the whole table's unique key, batch by batch: new keys not already present
        expectations.append(key_not_already_present(source, source.name, coverage.outside_batch("t")))
    return expectations


def validate_layer(lake: Lake, layer: str, source: Source, *, whole_reason: str | None = None) -> LayerValidation:
    """Validate the rows the layer's gate covers (the whole table when `whole_reason` says why)."""
    name = suite_name(layer, source)
    coverage = _coverage(lake, layer, source, whole_reason)
    if _replaces_rows(layer, source, coverage) and not _readable(lake, source, coverage.since_version):
        coverage = _coverage(lake, layer, source, f"version {coverage.since_version} no longer readable")
    if coverage.is_empty():
        return LayerValidation(name, coverage, None)
    path = lake.bronze(source.name) if layer == "bronze" else lake.silver(source.name)
    outcome = validate_sql(
        name,
        _expectations(layer, source, coverage),
        source.name,
        delta_tables={source.name: path},
        query=coverage.query(source.name),
        index_columns=WHERE_FROM,
    )
    replaced = _replaced(lake, source, path, coverage) if _replaces_rows(layer, source, coverage) else None
    return LayerValidation(name, coverage, outcome, replaced)


def _replaces_rows(layer: str, source: Source, coverage: Coverage) -> bool:
    return layer == "silver" and source.load_mode == "upsert" and coverage.scope == BATCH


def _readable(lake: Lake, source: Source, version: int) -> bool:
    """Whether the table's `version` can still be loaded (its log entries expire: `lake_maintenance`)."""
    path = lake.silver(source.name)
    try:
        open_delta(path, lake.storage_options_for(path)).load_as_version(version)
    except DeltaError:
        return False
    return True


def _replaced(lake: Lake, source: Source, path, coverage: Coverage) -> SuiteOutcome:
    """The validity rules on the rows the batch replaced, in the version the previous validation covered: what the
    scorecard subtracts so that its sums over batches stay the whole table's (`quality/scorecard_signals.py`)."""
    before = f"{source.name}__before"
    same_key = " and ".join(f"t.{quoted(k)} = p.{quoted(k)}" for k in source.primary_key)
    query = (
        f"select p.* from {quoted(before)} as p where exists "
        f"(select 1 from {quoted(source.name)} as t where {same_key} and {coverage.in_batch('t')})"
    )
    previous = open_delta(path, lake.storage_options_for(path))
    previous.load_as_version(coverage.since_version)
    return validate_sql(
        f"{suite_name('silver', source)}_replaced",
        [e for e in silver_suite(source) if e.meta["dimension"] == "validity"],
        before,
        delta_tables={source.name: path},
        arrow_tables={before: previous.to_pyarrow_dataset()},
        query=query,
        index_columns=WHERE_FROM,
    )


def keep(lake: Lake, validation: LayerValidation, *, dataset: str, layer: str, run_id: str) -> None:
    """Append a validation's rows to the results table and store its GX result for the run's Data Docs."""
    if validation.outcome is None:
        return
    outcome, validated_at = validation.outcome, datetime.now(UTC)
    rows = result_rows(
        outcome, dataset=dataset, layer=layer, run_id=run_id, validated_at=validated_at, coverage=validation.coverage
    )
    if validation.replaced is not None:  # for the scorecard only: not a gate, not in Data Docs
        replaced = result_rows(
            validation.replaced,
            dataset=dataset,
            layer=layer,
            run_id=run_id,
            validated_at=validated_at,
            coverage=replace(validation.coverage, scope=REPLACED),
        )
        rows = pl.concat([rows, replaced.with_columns(pl.lit(outcome.suite).alias("suite"))])
    append_results(lake, rows)
    store_validation_result(lake, outcome, run_id=run_id, batch=f"{layer}.{dataset}.{validation.coverage.scope}")

"""Every bronze and silver suite on the whole table, writing to the same results table (scope 'whole_table'): it
catches what no batch gate can (e.g. a key planted twice across batches by a write outside the pipeline). Weekly, at
the end of `lake_maintenance`, and on demand as the `whole_table_validation` job; Data Docs rendered once at the end."""

from dagster import Failure, In, MetadataValue, Nothing, OpExecutionContext, Out, Output, job, op
from deltalake import DeltaTable

from ingestion.catalog import load_catalog
from orchestration.resources import LakeResource
from quality.results import build_data_docs
from quality.source_gates import LAYERS, keep, validate_layer


@op(ins={"after": In(Nothing)}, out=Out(Nothing))
def validate_whole_tables(context: OpExecutionContext, lake_resource: LakeResource):
    lake = lake_resource.lake()
    rows, failed = [], []
    for source in load_catalog().values():
        for layer in LAYERS:
            path = lake.bronze(source.name) if layer == "bronze" else lake.silver(source.name)
            if not DeltaTable.is_deltatable(str(path), lake.storage_options_for(path) or None):
                continue  # not built yet
            validation = validate_layer(lake, layer, source, whole_reason="whole-table validation")
            keep(lake, validation, dataset=source.name, layer=layer, run_id=context.run.run_id)
            outcome = validation.outcome
            failures = [f"{o.rule or o.expectation}({o.column or ''})" for o in outcome.critical_failures]
            rows.append(
                f"| {validation.suite} | {outcome.rows:,} | {'FAILED' if failures else 'passed'} | "
                f"{', '.join(failures)} |"
            )
            if failures:  # rule and column names only: sample values stay in the results table
                failed.append(f"{validation.suite}: {', '.join(failures)}")
    index, rendered = build_data_docs(lake)
    table = "| suite | rows | verdict | critical failures |\n|---|---|---|---|\n" + "\n".join(rows)
    metadata = {
        "suites": MetadataValue.md(table),
        "data_docs": MetadataValue.path(str(index)),
        "results_rendered": rendered,
        "failed": len(failed),
    }
    if failed:
        raise Failure(
            description="Kiểm tra toàn bảng không đạt / whole-table validation failed: " + "; ".join(failed),
            metadata=metadata,
            allow_retries=False,
        )
    return Output(None, metadata=metadata)


@job(description="Validate every bronze and silver table whole (scope 'whole_table' in the results table).")
def whole_table_validation():
    validate_whole_tables()

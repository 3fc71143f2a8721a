"""Every bronze and silver suite on the whole table, writing to the same results table (scope 'whole_table'): it
catches what no batch gate can (e.g. a key planted twice across batches by a write outside the pipeline). Weekly, at
the end of `lake_maintenance`, and on demand as the `whole_table_validation` job; Data Docs rendered once at the end.
The same job runs the dbt tests that a refresh scopes to the rows it wrote (tag batch_scoped) on every row."""

import json

import duckdb
from dagster import Failure, In, MetadataValue, Nothing, OpExecutionContext, Out, Output, job, op
from dagster_dbt import DbtCliResource
from deltalake import DeltaTable

from ingestion.catalog import load_catalog
from ingestion.lake import Lake
from orchestration.dbt_project import dbt_project
from orchestration.dbt_runs import run_dbt, tidy_run_target
from orchestration.resources import WAREHOUSE_POOL, LakeResource
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


def batch_scoped_tests(lake: Lake) -> tuple[list[str], list[str]]:
    """(the batch-scoped dbt tests whose tables the warehouse holds, the tables it does not hold yet)."""
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"]
    reads = {
        node["name"]: {"{schema}.{alias}".format(**nodes[n]) for n in node["depends_on"]["nodes"] if n in nodes}
        for node in nodes.values()
        if node["resource_type"] == "test" and "batch_scoped" in node["config"]["tags"]
    }
    try:
        with duckdb.connect(str(lake.warehouse), read_only=True) as con:
            listed = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    except duckdb.IOException:  # no warehouse file yet
        listed = []
    held = {f"{schema}.{name}" for schema, name in listed}
    return sorted(t for t, tables in reads.items() if tables <= held), sorted(set().union(*reads.values()) - held)


@op(ins={"after": In(Nothing)}, out=Out(Nothing), pool=WAREHOUSE_POOL)
def test_warehouse_whole_tables(context: OpExecutionContext, dbt: DbtCliResource, lake_resource: LakeResource):
    """The dbt tests a refresh scopes to the rows it wrote (tag batch_scoped) on every row of their tables."""
    lake = lake_resource.lake()
    tests, not_built = batch_scoped_tests(lake)
    if not_built:
        context.log.info(f"not built yet, so not tested: {', '.join(not_built)}")
    if not tests:
        return Output(None, metadata={"tests": 0, "not_built": MetadataValue.json(not_built)})
    # `dbt test`, unlike a refresh's `dbt build`, checks every row (macros/incremental_by_cccd.sql)
    invocation = run_dbt(context, dbt, lake, ["test", "--select", " ".join(tests)], raise_on_error=False).wait()
    tidy_run_target(context, invocation)
    results = invocation.get_artifact("run_results.json")["results"]
    failed = [r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error")]
    metadata = {"tests": len(results), "failed": MetadataValue.json(failed), "not_built": MetadataValue.json(not_built)}
    if failed or not invocation.is_successful():
        raise Failure(
            description="Kiểm thử dbt toàn bảng không đạt / whole-table dbt tests failed: "
            + (", ".join(failed) or f"dbt exited with an error (see {invocation.target_path / 'dbt.log'})"),
            metadata=metadata,
            allow_retries=False,
        )
    return Output(None, metadata=metadata)


@job(
    description="Validate every bronze and silver table whole (scope 'whole_table' in the results table) and run the "
    "warehouse's batch-scoped dbt tests on every row."
)
def whole_table_validation():
    validate_whole_tables()
    test_warehouse_whole_tables()

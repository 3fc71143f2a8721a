"""Run a GX Core suite and turn the result into something a gate can act on and a person can read.

Two engines: `validate_sql` (the pipeline's: GX's SQL engine on DuckDB, next to the data, see
`quality/duckdb_sql.py`) and `validate_frame` (GX's pandas engine on a copied frame, kept for the benchmark in
`bench/validation_sql_vs_pandas.py` and small in-memory inputs). Both redact personal values in GX's result before
returning it (`redact_result`): everything downstream (checks, results table, Data Docs, logs) sees only redacted
samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import great_expectations as gx
import polars as pl
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.metadata_types import FailureSeverity

from sharing.pii_scan import contract_pii_columns
from sharing.pseudonym import key_or_none
from sharing.redaction import redact_tree

SAMPLE_SIZE = 5
WHERE_FROM = ("_source_file", "_row_number")  # the lineage columns bronze and silver rows carry: file and line


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: list = field(default_factory=list)
    observed: object = None
    error: str | None = None
    rule: str | None = None  # the suite's name for the rule (meta.rule), e.g. "cccd_province"
    dimension: str | None = None  # validity | completeness | uniqueness | volume | schema | consistency
    element_count: int | None = None
    missing_count: int | None = None  # nulls among element_count (a column rule does not check them)

    def describe(self) -> str:
        target = f"{self.expectation}({self.column})" if self.column else self.expectation
        if self.error:
            return f"{target}: could not run ({self.error})"
        if self.unexpected_count is not None:
            share = f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else ""
            return f"{target}: {self.unexpected_count:,} unexpected{share}, e.g. {self.sample}"
        return f"{target}: observed {self.observed!r}"


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]
    result: object = field(default=None, compare=False, repr=False)  # GX's ExpectationSuiteValidationResult

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == FailureSeverity.CRITICAL.value]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != FailureSeverity.CRITICAL.value]

    @property
    def passed(self) -> bool:
        return not self.critical_failures

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"suite {self.suite} {verdict}: {len(self.outcomes) - len(self.critical_failures) - len(self.warnings)}"
            f"/{len(self.outcomes)} expectations met on {self.rows:,} rows"
        ]
        lines += [f"  critical: {o.describe()}" for o in self.critical_failures]
        lines += [f"  warning: {o.describe()}" for o in self.warnings]
        return "\n".join(lines)


@lru_cache
def _context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _error(exception_info: dict | None) -> str | None:
    """GX reports an exception either flat or keyed by the metric that raised it; find the message in both."""
    if not exception_info:
        return None
    if exception_info.get("raised_exception"):
        return exception_info.get("exception_message")
    for info in exception_info.values():
        if isinstance(info, dict) and info.get("raised_exception"):
            return info.get("exception_message")
    return None


def _sample(details: dict) -> list[str]:
    located = _located(details)
    if located:
        return located[:SAMPLE_SIZE]
    values = details.get("partial_unexpected_list")
    if values is None and isinstance(details.get("details"), dict):  # UnexpectedRowsExpectation: whole rows
        values = details["details"].get("unexpected_rows") or []
    return [str(v) for v in (values or [])[:SAMPLE_SIZE]]


def _located(details: dict) -> list[str]:
    """Samples with the file and line they come from, when the validation asked for them (`index_columns`)."""
    index = details.get("unexpected_index_column_names") or []
    where = [c for c in WHERE_FROM if c in index]
    return [
        ", ".join(str(v) for k, v in row.items() if k not in index) + f" ({':'.join(str(row[c]) for c in where)})"
        for row in details.get("partial_unexpected_index_list") or []
        if isinstance(row, dict) and where
    ]


def _outcome(result) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    meta = config.meta or {}
    observed = details.get("observed_value")
    unexpected = details.get("unexpected_count")
    if unexpected is None and config.type == "unexpected_rows_expectation" and isinstance(observed, int):
        unexpected = observed
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column")
        or config.kwargs.get("column_list")
        and ",".join(config.kwargs["column_list"]),
        severity=FailureSeverity(config.severity or FailureSeverity.CRITICAL).value,
        success=bool(result.success),
        unexpected_count=unexpected,
        unexpected_percent=details.get("unexpected_percent"),
        sample=_sample(details),
        observed=observed,
        error=_error(result.exception_info),
        rule=meta.get("rule"),
        dimension=meta.get("dimension"),
        element_count=details.get("element_count"),
        missing_count=details.get("missing_count"),
    )


def _row_count(outcomes: list[ExpectationOutcome]) -> int:
    for o in outcomes:
        if o.expectation == "expect_table_row_count_to_be_between" and isinstance(o.observed, int):
            return o.observed
    return max((o.element_count or 0 for o in outcomes), default=0)


RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}


def _columns(config) -> set[str]:
    kwargs = config.kwargs
    return {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *(kwargs.get("column_list") or [])}


def redact_result(result) -> None:
    """Redact personal values in GX's result itself, before anything reads or renders it: samples leave the
    restricted tier (check metadata, the results table, Data Docs, log lines)."""
    key, pii = key_or_none(), contract_pii_columns()
    for r in result.results:
        personal = bool(_columns(r.expectation_config) & pii)
        r.result = redact_tree(r.result or {}, personal=personal, key=key)
        r.exception_info = redact_tree(r.exception_info, key=key)


def validate_sql(
    suite_name: str,
    expectations: list,
    table: str,
    *,
    delta_tables: dict | None = None,
    arrow_tables: dict | None = None,
    database: str = ":memory:",
    read_only: bool = False,
    index_columns: tuple[str, ...] = (),
    query: str | None = None,
) -> SuiteOutcome:
    """Validate view/table `table` (or the rows of `query`, a SELECT over it) with GX's SQL engine in DuckDB, where
    the data is.

    `delta_tables` (view → Delta path) are scanned in place through Arrow; `arrow_tables` (view → Arrow table) are
    for small inputs already in memory (marts); or `database` names a DuckDB file (open it `read_only` when other
    connections may read it too). The engine is disposed afterwards, so no DuckDB handle stays open. `index_columns`
    (e.g. WHERE_FROM) are returned with each sampled value, to find its row.
    """
    from quality.duckdb_sql import connect_args, duckdb_url

    context = _context()
    datasource = context.data_sources.add_or_update_sql(
        name=suite_name,
        connection_string=duckdb_url(database),
        create_temp_table=False,
        kwargs={
            "connect_args": {
                **connect_args(delta_tables=delta_tables, arrow_tables=arrow_tables),
                **({"read_only": True} if read_only else {}),
            }
        },
    )
    try:
        asset = (
            datasource.add_query_asset(name=table, query=query)
            if query
            else datasource.add_table_asset(name=table, table_name=table)
        )
        batch = asset.add_batch_definition_whole_table(name="whole").get_batch()
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        located = {"unexpected_index_column_names": list(index_columns)} if index_columns else {}
        result = batch.validate(suite, result_format={**RESULT_FORMAT, **located})
    finally:
        datasource.get_engine().dispose()
        context.data_sources.delete(suite_name)
    redact_result(result)
    outcomes = [_outcome(r) for r in result.results]
    return SuiteOutcome(suite=suite_name, rows=_row_count(outcomes), outcomes=outcomes, result=result)


def validate_frame(suite_name: str, expectations: list, frame: pl.DataFrame) -> SuiteOutcome:
    """Validate `frame` against `expectations` with GX's pandas engine."""
    context = _context()
    try:
        asset = context.data_sources.add_or_update_pandas(name=suite_name).add_dataframe_asset(name=suite_name)
        batch_definition = asset.add_batch_definition_whole_dataframe(name="whole")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
        result = batch.validate(suite, result_format=RESULT_FORMAT)
    finally:
        # The context lives for the process: a pandas datasource left under a suite's name would make the next
        # `validate_sql` of that suite fail ("datasource of a different type").
        context.data_sources.delete(suite_name)
    redact_result(result)
    return SuiteOutcome(
        suite=suite_name, rows=frame.height, outcomes=[_outcome(r) for r in result.results], result=result
    )

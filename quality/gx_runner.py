"""Run a GX Core suite on a frame and turn the result into something a gate can act on and a person can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import great_expectations as gx
import polars as pl
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.metadata_types import FailureSeverity

SAMPLE_SIZE = 5


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
        lines = [f"suite {self.suite} {verdict}: {len(self.outcomes) - len(self.critical_failures) - len(self.warnings)}"
                 f"/{len(self.outcomes)} expectations met on {self.rows:,} rows"]
        lines += [f"  critical: {o.describe()}" for o in self.critical_failures]
        lines += [f"  warning: {o.describe()}" for o in self.warnings]
        return "\n".join(lines)


@lru_cache
def _context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _outcome(result) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = result.exception_info.get("exception_message")
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column") or config.kwargs.get("column_list") and ",".join(config.kwargs["column_list"]),
        severity=FailureSeverity(config.severity or FailureSeverity.CRITICAL).value,
        success=bool(result.success),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=details.get("unexpected_percent"),
        sample=[str(v) for v in (details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]],
        observed=details.get("observed_value"),
        error=error,
    )


def validate_frame(suite_name: str, expectations: list, frame: pl.DataFrame) -> SuiteOutcome:
    """Validate `frame` against `expectations` with GX's pandas engine."""
    context = _context()
    asset = context.data_sources.add_or_update_pandas(name=suite_name).add_dataframe_asset(name=suite_name)
    batch_definition = asset.add_batch_definition_whole_dataframe(name="whole")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE})
    return SuiteOutcome(suite=suite_name, rows=frame.height, outcomes=[_outcome(r) for r in result.results])

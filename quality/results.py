"""Keep every validation: one row per expectation per check run in a Delta table, and GX Data Docs as a static site.

    lake/quality/validation_results/   Delta, appended by every check run (the scorecard reads it)
    lake/quality/gx/                    GX file context: stored suites and validation results (Data Docs' input)
    lake/quality/data_docs/index.html   GX Data Docs, rendered once per run (the `quality/data_docs` asset); open it

Data Docs keep the last `DOCS_RUNS_PER_SUITE` results of each suite; the Delta table keeps every one. GX's index
builder reads every stored result on each build, so an unpruned store would make every build slower night after
night (figures in bench/README.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

from ingestion.lake import Lake
from quality.batch import WHOLE_TABLE, Coverage
from quality.gx_runner import SuiteOutcome

DATA_DOCS_SITE = "lake_site"
DOCS_RUNS_PER_SUITE = 20
DOCS_INDEX_RESULTS = 100  # newest results listed on the index page (GX's `validation_results_limit`)

RESULT_SCHEMA = {
    "run_id": pl.String,
    "validated_at": pl.Datetime("us", "UTC"),
    "dataset": pl.String,
    "layer": pl.String,
    "suite": pl.String,
    "expectation": pl.String,
    "rule": pl.String,
    "dimension": pl.String,
    "column": pl.String,
    "severity": pl.String,
    "success": pl.Boolean,
    "unexpected_count": pl.Int64,
    "unexpected_percent": pl.Float64,
    "element_count": pl.Int64,
    "missing_count": pl.Int64,
    "rows_validated": pl.Int64,
    "sample": pl.String,
    "observed": pl.String,
    "error": pl.String,
    # what the validation covered (quality/batch.py): 'batch' (rows ingested in (batch_since, covered_until]) or
    # 'whole_table', the table's Delta version; the next gate of the suite starts from there
    "scope": pl.String,
    "covered_version": pl.Int64,
    "covered_until": pl.Datetime("us", "UTC"),
    "batch_since": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class QualityPaths:
    root: Path

    @classmethod
    def of(cls, lake: Lake) -> QualityPaths:
        return cls(lake.root / "quality")

    @property
    def results(self) -> Path:
        return self.root / "validation_results"

    @property
    def scorecard(self) -> Path:
        return self.root / "scorecard_daily"

    @property
    def gx_project(self) -> Path:
        return self.root

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"


def result_rows(
    outcome: SuiteOutcome,
    *,
    dataset: str,
    layer: str,
    run_id: str,
    validated_at: datetime | None = None,
    coverage: Coverage | None = None,
) -> pl.DataFrame:
    validated_at = validated_at or datetime.now(UTC)
    covered = (
        {"scope": WHOLE_TABLE}
        if coverage is None
        else {
            "scope": coverage.scope,
            "covered_version": coverage.version,
            "covered_until": coverage.until,
            "batch_since": coverage.since,
        }
    )
    rows = [
        {
            "run_id": run_id,
            "validated_at": validated_at,
            "dataset": dataset,
            "layer": layer,
            "suite": outcome.suite,
            "expectation": o.expectation,
            "rule": o.rule,
            "dimension": o.dimension,
            "column": o.column,
            "severity": o.severity,
            "success": o.success,
            "unexpected_count": o.unexpected_count,
            "unexpected_percent": o.unexpected_percent,
            "element_count": o.element_count,
            "missing_count": o.missing_count,
            "rows_validated": outcome.rows,
            "sample": json.dumps(o.sample, ensure_ascii=False),
            "observed": None if o.observed is None else str(o.observed),
            "error": o.error,
            **covered,
        }
        for o in outcome.outcomes
    ]
    return pl.DataFrame(rows, schema=RESULT_SCHEMA)


def append_results(lake: Lake, rows: pl.DataFrame) -> None:
    # schema_mode="merge": a table written before a column existed (e.g. `scope`) gets it on the next append
    write_deltalake(
        str(QualityPaths.of(lake).results), rows.to_arrow(), mode="append", partition_by=["layer"], schema_mode="merge"
    )


def scan_results(lake: Lake) -> pl.LazyFrame:
    """The results table with every column of RESULT_SCHEMA; rows from before `scope` existed were whole-table."""
    path = QualityPaths.of(lake).results
    if not (path / "_delta_log").exists():
        return pl.LazyFrame(schema=RESULT_SCHEMA)
    scan = pl.scan_delta(str(path))
    present = scan.collect_schema().names()
    return scan.with_columns(
        *[pl.lit(None, dtype=dtype).alias(name) for name, dtype in RESULT_SCHEMA.items() if name not in present]
    ).with_columns(pl.col("scope").fill_null(WHOLE_TABLE))


def read_results(lake: Lake) -> pl.DataFrame:
    return scan_results(lake).collect()


@lru_cache(maxsize=8)
def _docs_context(paths: QualityPaths):
    """The lake's GX file project, opened once per process (opening reads and writes its YAML: ~0.1 s a check)."""
    import great_expectations as gx

    context = gx.get_context(mode="file", project_root_dir=str(paths.gx_project))
    page_view = {"module_name": "quality.data_docs_views", "class_name": "CompiledOncePageView"}
    site = {
        "class_name": "SiteBuilder",
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": DOCS_INDEX_RESULTS,
            "view": {**page_view, "class_name": "CompiledOnceIndexPageView"},
        },
        "site_section_builders": {
            "expectations": {"view": page_view},
            "validations": {"view": page_view},
            "profiling": "None",
        },  # no profiling results here
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(paths.data_docs)},
    }
    sites = context.variables.data_docs_sites or {}
    if sites.get(DATA_DOCS_SITE) != site:
        for name in list(sites):
            context.delete_data_docs_site(name)
        context.add_data_docs_site(DATA_DOCS_SITE, site)
    return context


def store_validation_result(lake: Lake, outcome: SuiteOutcome, *, run_id: str, batch: str) -> None:
    """Store the suite and its GX validation result in the lake's GX project, for `build_data_docs` to render."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    paths = QualityPaths.of(lake)
    context = _docs_context(paths)
    result = outcome.result
    expectations = [r.expectation_config.to_domain_obj() for r in result.results]
    for expectation in expectations:
        expectation.id = None  # they belonged to the validating context's suite; this project stores its own copy
    context.suites.add_or_update(gx.ExpectationSuite(name=outcome.suite, expectations=expectations))
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=outcome.suite),
        run_id=RunIdentifier(run_name=run_id, run_time=datetime.now(UTC)),
        batch_identifier=batch,
    )
    context.validation_results_store.set(key, result)


def build_data_docs(lake: Lake, keep: int = DOCS_RUNS_PER_SUITE) -> tuple[Path, int]:
    """Render, once, every stored result that has no page yet, with its suite and the index (after keeping each
    suite's newest `keep` results); returns index.html and how many results were rendered."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    paths = QualityPaths.of(lake)
    context = _docs_context(paths)
    suites = {k.expectation_suite_identifier.name for k in context.validation_results_store.list_keys()}
    for suite in suites:
        _forget_older_results(context, paths, suite, keep)
    pages = _pages(paths)
    pending = [k for k in context.validation_results_store.list_keys() if not pages.has_key(k.to_tuple())]
    suites = sorted({k.expectation_suite_identifier.name for k in pending})
    # Render only the new results and their suites (plus the index): re-rendering every stored run would grow.
    context.build_data_docs(
        site_names=[DATA_DOCS_SITE],
        resource_identifiers=[*pending, *(ExpectationSuiteIdentifier(name=s) for s in suites)],
    )
    return paths.data_docs / "index.html", len(pending)


def _pages(paths: QualityPaths):
    """Validation pages as GX's HtmlSiteStore lays them out: validations/<suite>/<run>/<time>/<batch>.html."""
    from great_expectations.data_context.store import TupleFilesystemStoreBackend

    return TupleFilesystemStoreBackend(
        base_directory=str(paths.data_docs),
        filepath_prefix="validations",
        filepath_suffix=".html",
        suppress_store_backend_id=True,
    )


def _forget_older_results(context, paths: QualityPaths, suite: str, keep: int) -> None:
    """Remove the suite's stored results beyond its newest `keep`, with their rendered pages."""
    store = context.validation_results_store
    stored = sorted(
        (k for k in store.list_keys() if k.expectation_suite_identifier.name == suite),
        key=lambda k: k.run_id.run_time,
        reverse=True,
    )
    pages = _pages(paths)
    for key in stored[keep:]:
        store.remove_key(key)
        pages.remove_key(key.to_tuple())
    if len(stored) > keep:  # GX 1.24 leaves the emptied <run>/<time> folders behind (its rrmdir never removes one)
        for folder in (Path(store.store_backend.full_base_directory) / suite, paths.data_docs / "validations" / suite):
            for empty in sorted((d for d in folder.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True):
                if not any(empty.iterdir()):
                    empty.rmdir()

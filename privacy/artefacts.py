"""Quality artefacts that may quote a person's values: the validation results' samples (Delta) and GX's stored
results and Data Docs (JSON and HTML files). Values are redacted in place, the rest of each artefact kept."""

from __future__ import annotations

import json
from pathlib import Path

from deltalake import DeltaTable

from ingestion.duckdb_delta import quoted, sql_string
from ingestion.lake import Lake
from privacy.lake_rows import forget_history
from privacy.warehouse_rows import REDACTED
from quality.results import QualityPaths

SAMPLE_COLUMNS = ("sample", "observed", "error")


def _spellings(value: str) -> set[str]:
    """The value as written, and as JSON writes it with non-ASCII escaped (GX's stored results)."""
    return {value, json.dumps(value)[1:-1]}


def redact_validation_results(lake: Lake, values: tuple[str, ...]) -> int:
    """Rows of lake/quality/validation_results whose samples quoted one of `values`; redacted, old files vacuumed."""
    path = QualityPaths.of(lake).results
    if not DeltaTable.is_deltatable(str(path)):
        return 0
    table = DeltaTable(str(path))
    present = {f.name for f in table.schema().fields}
    changed = 0
    for column in (c for c in SAMPLE_COLUMNS if c in present):
        for value in values:
            metrics = table.update(
                updates={column: f"replace({quoted(column)}, {sql_string(value)}, {sql_string(REDACTED)})"},
                predicate=f"strpos({quoted(column)}, {sql_string(value)}) > 0",
            )
            changed += int(metrics.get("num_updated_rows", 0))
    if changed:
        forget_history(lake, path)
    return changed


def redact_files(folder: Path, values: tuple[str, ...]) -> list[str]:
    """Text files under `folder` (GX results, Data Docs) holding one of `values`, rewritten redacted; their paths."""
    spellings = sorted({s for v in values for s in _spellings(v)}, key=len, reverse=True)
    rewritten = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".json", ".html", ".md")):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if any(s in text for s in spellings):
            for spelling in spellings:
                text = text.replace(spelling, REDACTED)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
            rewritten.append(str(path.relative_to(folder)))
    return rewritten


def quality_folders(lake: Lake) -> list[Path]:
    root = QualityPaths.of(lake).root
    return [p for p in (root / "gx", root / "data_docs") if p.exists()]

"""The suites, layer by layer. Rules that come from a source's contract are generated from the catalog.

Every expectation carries `meta.rule` (a stable name, shown in the results table and the checks) and
`meta.dimension`, which the scorecard reads: `validity` rules make "correct", `completeness` ones "complete",
`uniqueness` "clean", `consistency` "unified". Severity: critical (the default) blocks downstream; `warning`
is reported and does not block.

Which semantic rule a column gets is inferred from its contract name by one small explicit table
(`SEMANTIC_COLUMNS`); a semantic rule replaces the column's plain `pattern` expectation, since it implies it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import great_expectations.expectations as gxe

from ingestion import reference
from ingestion.bronze import LINEAGE_COLUMNS
from ingestion.catalog import Column, Source
from ingestion.duckdb_delta import quoted
from quality.expectations import ExpectColumnValuesToBeKnownCommuneCode, ExpectColumnValuesToBeValidVnTaxCode

WARNING = "warning"
# A department may send a few codes we cannot place; past this share the extract is wrong, not the rows.
MAX_UNKNOWN_COMMUNE_SHARE = 0.05
# Identifier and date rules the contract does not enforce row by row: a few bad values are reported (warning);
# past this share the extract is wrong and the gate blocks.
MAX_INVALID_SHARE = 0.01
# Bronze keeps raw rows (silver quarantines the incomplete ones); past this share the extract itself is broken.
MAX_MISSING_REQUIRED_SHARE = 0.05

# Contract column name (exact, or as a `_suffix`) → semantic rule. Keep this table small and explicit.
SEMANTIC_COLUMNS = {"cccd": "cccd", "tax_code": "tax_code", "phone": "vn_mobile"}
# Vietnamese mobile numbers: 10 digits, 0 + a mobile network prefix (3, 5, 7, 8, 9; since the 2018 renumbering).
VN_MOBILE_PATTERN = r"^0[35789]\d{8}$"
EARLIEST_DATE = date(1900, 1, 1)
# Due dates and plans may lie ahead; nothing a department records lies more than this far in the future.
FUTURE_HORIZON = timedelta(days=2 * 366)


def _meta(rule: str, dimension: str) -> dict:
    return {"rule": rule, "dimension": dimension}


def semantic_kind(column: Column) -> str | None:
    for key, kind in SEMANTIC_COLUMNS.items():
        if column.name == key or column.name.endswith(f"_{key}"):
            return kind
    return None


def cccd_pattern() -> str:
    """12 digits whose first 3 are 0 + a real pre-2025 province code (the province where the CCCD was issued)."""
    provinces = sorted(set(reference.pre2025_units()["province_code"].to_list()))
    return rf"^0(?:{'|'.join(provinces)})\d{{9}}$"


def _semantic_expectation(column: Column, kind: str, severity: str | None, mostly: float = 1.0):
    extra = {"severity": severity, "mostly": mostly} if severity else {"mostly": mostly}
    every = "_all" if severity else ""  # the warning twin that reports any bad value
    if kind == "cccd":
        return gxe.ExpectColumnValuesToMatchRegex(
            column=column.name, regex=cccd_pattern(), meta=_meta(f"cccd{every}", "validity"), **extra
        )
    if kind == "tax_code":
        return ExpectColumnValuesToBeValidVnTaxCode(
            column=column.name, meta=_meta(f"tax_code{every}", "validity"), **extra
        )
    return gxe.ExpectColumnValuesToMatchRegex(
        column=column.name, regex=VN_MOBILE_PATTERN, meta=_meta(f"vn_mobile{every}", "validity"), **extra
    )


def _date_range(column: Column, today: date, mostly: float = 1.0, severity: str | None = None):
    """Plausible dates: not before 1900; birth dates not in the future, other dates at most two years ahead."""
    latest = today if "birth" in column.name else today + FUTURE_HORIZON
    # datetime bounds compare with DATE and TIMESTAMP columns alike, in SQL and in pandas.
    low, high = datetime.combine(EARLIEST_DATE, datetime.min.time()), datetime.combine(latest, datetime.max.time())
    extra = {"severity": severity} if severity else {}
    return gxe.ExpectColumnValuesToBeBetween(
        column=column.name,
        min_value=low,
        max_value=high,
        mostly=mostly,
        meta=_meta("date_range_all" if severity else "date_range", "validity"),
        **extra,
    )


def bronze_suite(source: Source) -> list:
    """Contract shape on the raw rows: columns exist as text, lineage is there, something landed, required fields
    are mostly filled (a few gaps are the quarantine's job; a column mostly empty means the extract is broken)."""
    expectations = [gxe.ExpectTableRowCountToBeBetween(min_value=1, meta=_meta("row_count", "volume"))]
    expectations += [
        gxe.ExpectColumnToExist(column=c, meta=_meta("column_exists", "schema"))
        for c in [*source.column_names, *LINEAGE_COLUMNS]
    ]
    as_text = " or ".join(f"typeof(\"{c}\") <> 'VARCHAR'" for c in source.column_names)
    expectations.append(
        gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=f"select * from {{batch}} where {as_text}",
            description="Bronze keeps every contract column as raw text.",
            meta=_meta("raw_text", "schema"),
        )
    )
    expectations.append(gxe.ExpectColumnValuesToNotBeNull(column="_file_hash", meta=_meta("lineage", "schema")))
    for column in source.columns:
        if column.required:
            expectations.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=column.name, mostly=1 - MAX_MISSING_REQUIRED_SHARE, meta=_meta("required", "completeness")
                )
            )
            expectations.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=column.name, severity=WARNING, meta=_meta("required_all", "completeness")
                )
            )
    return expectations


def silver_suite(source: Source, today: date | None = None) -> list:
    """Validity: the contract's rules hold on every row, identifiers are real (CCCD province, MST check digit,
    mobile numbers), dates are plausible, keys are unique, codes resolve to real units."""
    today = today or date.today()
    expectations: list = [gxe.ExpectTableRowCountToBeBetween(min_value=1, meta=_meta("row_count", "volume"))]
    for column in source.columns:
        kind = semantic_kind(column)
        if column.required:
            expectations.append(
                gxe.ExpectColumnValuesToNotBeNull(column=column.name, meta=_meta("required", "completeness"))
            )
        if kind and column.type == "string":
            expectations.append(_semantic_expectation(column, kind, None, mostly=1 - MAX_INVALID_SHARE))
            expectations.append(_semantic_expectation(column, kind, WARNING))
        elif column.pattern:
            expectations.append(
                gxe.ExpectColumnValuesToMatchRegex(
                    column=column.name, regex=column.pattern, meta=_meta("pattern", "validity")
                )
            )
        if column.allowed:
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=column.name, value_set=list(column.allowed), meta=_meta("allowed", "validity")
                )
            )
        if column.type in ("date", "datetime"):
            expectations.append(_date_range(column, today, mostly=1 - MAX_INVALID_SHARE))
            expectations.append(_date_range(column, today, severity=WARNING))
        if column.reference == "commune":
            expectations.append(
                ExpectColumnValuesToBeKnownCommuneCode(
                    column=column.name, mostly=1 - MAX_UNKNOWN_COMMUNE_SHARE, meta=_meta("commune_known", "consistency")
                )
            )
            expectations.append(
                ExpectColumnValuesToBeKnownCommuneCode(
                    column=column.name, severity=WARNING, meta=_meta("commune_known_all", "consistency")
                )
            )
    if len(source.primary_key) == 1:
        expectations.append(
            gxe.ExpectColumnValuesToBeUnique(column=source.primary_key[0], meta=_meta("unique_key", "uniqueness"))
        )
    else:
        expectations.append(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=list(source.primary_key), meta=_meta("unique_key", "uniqueness")
            )
        )
    return expectations


def key_not_already_present(source: Source, view: str, outside_batch: str) -> gxe.UnexpectedRowsExpectation:
    """A batch's half of the unique key: none of its keys is in the rest of the table (`view` aliased `t`;
    `outside_batch` is the SQL predicate on `t` that picks that rest). Only the key columns are joined."""
    keys = [quoted(k) for k in source.primary_key]
    same_key = " and ".join(f"t.{k} = b.{k}" for k in keys)
    # The rows are reported by file and line, not by key: a key may be personal data (a CCCD). GX aliases `{batch}`
    # itself when it is a query, so the batch's rows get their own alias one level up.
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query="select b._source_file, b._row_number from "
        f"(select {', '.join(keys)}, _source_file, _row_number from {{batch}}) as b "
        f"where exists (select 1 from {quoted(view)} as t where {same_key} and {outside_batch})",
        description="The batch's keys are not already in the table.",
        meta=_meta("key_not_present", "uniqueness"),
    )


def dossier_on_time_mart_suite(silver_dossiers: int) -> list:
    """Business rules of the on-time mart; its received counts must add up to the dossiers in silver."""
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, meta=_meta("row_count", "volume")),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["agency_code", "month"], meta=_meta("unique_key", "uniqueness")
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="agency_code", meta=_meta("required", "completeness")),
        gxe.ExpectColumnValuesToBeBetween(
            column="on_time_rate", min_value=0, max_value=1, meta=_meta("rate_in_0_1", "validity")
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="resolved_count",
            column_B="resolved_on_time_count",
            or_equal=True,
            meta=_meta("on_time_le_resolved", "validity"),
        ),
        gxe.ExpectColumnSumToBeBetween(
            column="received_count",
            min_value=silver_dossiers,
            max_value=silver_dossiers,
            meta=_meta("reconciles_with_silver", "consistency"),
        ),
    ]

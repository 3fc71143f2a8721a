"""The suites, layer by layer. Rules that come from a source's contract are generated from the catalog."""

from __future__ import annotations

import great_expectations.expectations as gxe

from ingestion import reference
from ingestion.bronze import LINEAGE_COLUMNS
from ingestion.catalog import Source

WARNING = "warning"
# A department may send a few codes we cannot place; past this share the extract is wrong, not the rows.
MAX_UNKNOWN_COMMUNE_SHARE = 0.05


def bronze_suite(source: Source) -> list:
    """Contract shape: every declared column and the lineage columns exist, and something landed."""
    expectations = [gxe.ExpectTableRowCountToBeBetween(min_value=1)]
    expectations += [gxe.ExpectColumnToExist(column=c) for c in [*source.column_names, *LINEAGE_COLUMNS]]
    expectations.append(gxe.ExpectColumnValuesToNotBeNull(column="_file_hash"))
    return expectations


def silver_suite(source: Source) -> list:
    """Validity: the contract's rules hold on every row, keys are unique, codes resolve to real units."""
    expectations: list = [gxe.ExpectTableRowCountToBeBetween(min_value=1)]
    for column in source.columns:
        if column.required:
            expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column.name))
        if column.pattern:
            expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=column.name, regex=column.pattern))
        if column.allowed:
            expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(column.allowed)))
        if column.reference == "commune":
            codes = sorted(reference.known_commune_codes())
            expectations.append(gxe.ExpectColumnValuesToBeInSet(
                column=column.name, value_set=codes, mostly=1 - MAX_UNKNOWN_COMMUNE_SHARE))
            expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=codes, severity=WARNING))
    if len(source.primary_key) == 1:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=source.primary_key[0]))
    else:
        expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(source.primary_key)))
    return expectations


def dossier_on_time_mart_suite(silver_dossiers: int) -> list:
    """Business rules of the on-time mart; its received counts must add up to the dossiers in silver."""
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["agency_code", "month"]),
        gxe.ExpectColumnValuesToNotBeNull(column="agency_code"),
        gxe.ExpectColumnValuesToBeBetween(column="on_time_rate", min_value=0, max_value=1),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="resolved_count", column_B="resolved_on_time_count",
                                                     or_equal=True),
        gxe.ExpectColumnSumToBeBetween(column="received_count", min_value=silver_dossiers, max_value=silver_dossiers),
    ]

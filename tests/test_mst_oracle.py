"""The project's MST (tax code) check against python-stdnum's `stdnum.vn.mst.is_valid`, an independent implementation,
over random and edge-case codes: the plain-Python rule, the GX pandas and SQL forms, and dbt's `mst_is_valid` macro
(the one dim_enterprise uses), rendered here and run in DuckDB.

All-zero parts: stdnum rejects a serial (digits 3-9) of 0000000 and a branch suffix of 000; the tax authority's
structure (Circular 105/2020/TT-BTC, art. 5) has serials from 0000001 and branches 001-999, so neither is ever issued.
The project rejects both too (quality/expectations.py). dbt's macro does not yet: its zero-case test is an expected
failure until the macro gets the same two conditions.
Forms: stdnum also accepts separators and a bare 13-digit branch code ("0100109106 001", "0100109106001"); the
project only accepts the canonical "dddddddddd" / "dddddddddd-ddd", so those are compared only on canonical strings.
"""

import random
import re
from pathlib import Path

import duckdb
import jinja2
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from stdnum.vn import mst

from quality.duckdb_sql import connect_args, duckdb_url
from quality.expectations import ColumnValuesValidVnTaxCode, tax_code_is_valid

CANONICAL = re.compile(r"\d{10}(-\d{3})?")
MACROS = Path(__file__).parent.parent / "dbt_project" / "macros" / "tax_code.sql"


def _codes() -> list[str]:
    rng = random.Random(20261201)
    prefixes = [f"{rng.randrange(10**9):09d}" for _ in range(3000)]
    prefixes += [f"{p:02d}0000000" for p in range(100)]  # zero serial in every province
    prefixes += ["000000000", "999999999", "010010910", "460010001", "010000000", "460000001"]
    codes = [p + str(d) for p in prefixes for d in range(10)]  # every check digit: one is right, or none
    tens = [c for c in codes if mst.is_valid(c)] + codes[::7]
    branches = ["000", "001", "010", "100", "999"] + [f"{rng.randrange(1000):03d}" for _ in range(20)]
    codes += [f"{c}-{rng.choice(branches)}" for c in tens] + [f"{tens[0]}-{b}" for b in branches]
    return codes


CODES = _codes()
ZERO_PARTS = [c for c in CODES if c[2:9] == "0000000" or c[11:] == "000"]


def _undecorated(name: str):
    """The metric's own condition function, under GX's decorators: the expression GX evaluates."""
    fn = ColumnValuesValidVnTaxCode.__dict__[name]
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


def _disagreements(valid: dict[str, bool], codes=CODES) -> list[tuple[str, bool, bool]]:
    return [(c, valid[c], mst.is_valid(c)) for c in codes if valid[c] != mst.is_valid(c)]


def test_the_sample_has_valid_and_invalid_codes_of_both_lengths():
    assert {len(c) for c in CODES if mst.is_valid(c)} == {10, 14}
    assert {len(c) for c in CODES if not mst.is_valid(c)} == {10, 14}
    assert any(mst.is_valid(c[:10]) and not mst.is_valid(c) for c in ZERO_PARTS)  # zero branch of a good code


def test_python_rule_agrees_with_stdnum():
    assert _disagreements({c: tax_code_is_valid(c) for c in CODES}) == []


def test_non_canonical_forms_stdnum_accepts_are_rejected():
    for code in ["0100109106 001", "0100109106001", "01.00.109.106", " 0100109106", "0100109106-01"]:
        assert not tax_code_is_valid(code), code
    assert mst.is_valid("0100109106001") and CANONICAL.fullmatch("0100109106-001")


def test_gx_pandas_form_agrees_with_stdnum():
    condition = _undecorated("_pandas")(ColumnValuesValidVnTaxCode, pd.Series(CODES))
    assert _disagreements(dict(zip(CODES, condition.tolist()))) == []


def _run_in_duckdb(expression_sql: str) -> dict[str, bool]:
    with duckdb.connect() as con:
        con.register("codes", pd.DataFrame({"tax_code": CODES}))
        rows = con.execute(f"select tax_code, {expression_sql} from codes").fetchall()
    return {code: bool(valid) for code, valid in rows}


def test_gx_sql_form_agrees_with_stdnum():
    # Through the engine GX validates with (duckdb+gx), so the SQL is compiled as in a pipeline run.
    codes = pa.table({"tax_code": CODES})
    engine = sa.create_engine(duckdb_url(), connect_args=connect_args(arrow_tables={"codes": codes}))
    column = sa.column("tax_code")
    condition = _undecorated("_sqlalchemy")(ColumnValuesValidVnTaxCode, column, _dialect=engine.dialect)
    try:
        with engine.connect() as con:
            rows = con.execute(sa.select(column, condition).select_from(sa.table("codes"))).fetchall()
    finally:
        engine.dispose()
    assert _disagreements({code: bool(valid) for code, valid in rows}) == []


def _dbt_macro_results() -> dict[str, bool]:
    return _run_in_duckdb(jinja2.Template(MACROS.read_text() + "{{ mst_is_valid('tax_code') }}").render())


def test_dbt_macro_agrees_with_stdnum_apart_from_zero_parts():
    others = [c for c in CODES if c not in set(ZERO_PARTS)]
    assert _disagreements(_dbt_macro_results(), others) == []


def test_dbt_macro_rejects_zero_parts_like_stdnum():
    assert _disagreements(_dbt_macro_results(), ZERO_PARTS) == []

"""dbt's `silver` sources (dbt_project/models/staging/_sources.yml) are the source contracts (ingestion/sources/*.yaml):
one source table per contract, with exactly the contract's columns, in the contract's order."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> dict[str, list[str]]:
    contracts = {}
    for path in sorted((ROOT / "ingestion" / "sources").glob("*.yaml")):
        contract = yaml.safe_load(path.read_text(encoding="utf-8"))
        contracts[contract["name"]] = [column["name"] for column in contract["columns"]]
    return contracts


def _dbt_sources() -> dict[str, list[str]]:
    sources = yaml.safe_load((ROOT / "dbt_project" / "models" / "staging" / "_sources.yml").read_text(encoding="utf-8"))
    assert [source["name"] for source in sources["sources"]] == ["silver"]
    return {
        table["name"]: [column["name"] for column in table.get("columns", [])]
        for table in sources["sources"][0]["tables"]
    }


def test_every_contract_is_a_dbt_source_and_nothing_else():
    assert sorted(_dbt_sources()) == sorted(_contracts())


def test_every_source_lists_exactly_its_contract_columns():
    sources = _dbt_sources()
    for name, columns in _contracts().items():
        assert sources[name] == columns, name


def test_every_source_column_is_described():
    sources = yaml.safe_load((ROOT / "dbt_project" / "models" / "staging" / "_sources.yml").read_text(encoding="utf-8"))
    for table in sources["sources"][0]["tables"]:
        assert table.get("description"), table["name"]
        for column in table["columns"]:
            assert column.get("description"), (table["name"], column["name"])

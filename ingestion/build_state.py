"""The build state store: one row per built object, in `lake/build_state.duckdb`, table `builds`.

Every incremental build decides what to redo from what it recorded last time: the silver views (`silver.<source>`:
watermark = the Delta version of the table's last rewrite), the shared file's record tables (`shared.<schema.table>`:
fingerprint, watermark, last whole build) and dbt's incremental models (`conformed.dim_citizen`, `marts.…`: dbt
ATTACHes this file as `build_state` and writes its own rows). A person reads it with `python -m ingestion.build_state`.

    object          varchar primary key  e.g. 'silver.dossiers', 'shared.records.citizens', 'conformed.dim_citizen'
    built_from      varchar              JSON text: the inputs and their versions/watermarks, for a person to read
    fingerprint     varchar              hash of the code and configuration the object was built with
    watermark       varchar              newest input change included (ISO-8601 UTC timestamp, or a Delta version)
    built_at        timestamptz          when this build finished
    whole_build_at  timestamptz          last build from scratch
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingestion.lake import Lake

DDL = """create table if not exists builds (
    object varchar primary key,
    built_from varchar,
    fingerprint varchar,
    watermark varchar,
    built_at timestamptz,
    whole_build_at timestamptz
)"""
COLUMNS = ("object", "built_from", "fingerprint", "watermark", "built_at", "whole_build_at")


@dataclass(frozen=True)
class Build:
    object: str
    built_from: str | None
    fingerprint: str | None
    watermark: str | None
    built_at: datetime | None
    whole_build_at: datetime | None


def _connect(lake: Lake, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(lake.build_state), read_only=read_only)
    con.execute("set TimeZone = 'UTC'")
    return con


def ensure(lake: Lake) -> None:
    """Create the file and its table if they are not there yet (before dbt ATTACHes it)."""
    lake.build_state.parent.mkdir(parents=True, exist_ok=True)
    with _connect(lake) as con:
        con.execute(DDL)


def read_all(lake: Lake) -> dict[str, Build]:
    """Every recorded build by object (empty when nothing was recorded yet)."""
    if not lake.build_state.exists():
        return {}
    with _connect(lake, read_only=True) as con:
        if not con.execute("select count(*) from duckdb_tables() where table_name = 'builds'").fetchone()[0]:
            return {}
        return {row[0]: Build(*row) for row in con.execute(f"select {', '.join(COLUMNS)} from builds").fetchall()}


def read(lake: Lake, object: str) -> Build | None:
    return read_all(lake).get(object)


def record(
    lake: Lake,
    object: str,
    *,
    built_from: dict[str, Any] | str | None,
    fingerprint: str | None,
    watermark: str | None,
    whole: bool = False,
    built_at: datetime | None = None,
) -> None:
    """Upsert `object`'s row; `whole` marks a build from scratch (its time becomes `whole_build_at`)."""
    record_many(
        lake,
        [
            {
                "object": object,
                "built_from": built_from,
                "fingerprint": fingerprint,
                "watermark": watermark,
                "whole": whole,
                "built_at": built_at,
            }
        ],
    )


def record_many(lake: Lake, builds: list[dict[str, Any]]) -> None:
    """`record` for several objects (dicts of its arguments) in one transaction: each open of the file costs
    ~0.2 s."""
    if not builds:
        return
    lake.build_state.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    rows = []
    for build in builds:
        text = build.get("built_from")
        text = text if text is None or isinstance(text, str) else json.dumps(text, sort_keys=True)
        when = build.get("built_at") or now
        rows.append([build["object"], text, build.get("fingerprint"), build.get("watermark"), when, build.get("whole")])
    with _connect(lake) as con:
        con.execute(DDL)
        con.executemany(
            "insert into builds values ($1, $2, $3, $4, $5, case when $6 then $5 end) on conflict (object) do update "
            "set built_from = excluded.built_from, fingerprint = excluded.fingerprint, watermark = excluded.watermark, "
            "built_at = excluded.built_at, whole_build_at = coalesce(excluded.whole_build_at, builds.whole_build_at)",
            rows,
        )


def forget(lake: Lake, object: str) -> None:
    """Drop `object`'s row: its next build starts from scratch."""
    if lake.build_state.exists():
        with _connect(lake) as con:
            con.execute(DDL)
            con.execute("delete from builds where object = ?", [object])


def main() -> int:
    lake = Lake.from_env()
    builds = read_all(lake)
    if not builds:
        print(f"{lake.build_state}: nothing recorded yet")
        return 0
    print(f"{lake.build_state}: {len(builds)} objects")
    for build in sorted(builds.values(), key=lambda b: b.object):
        print(f"\n{build.object}")
        for column in COLUMNS[1:]:
            print(f"  {column:<15} {getattr(build, column)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

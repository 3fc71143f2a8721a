"""Access request: everything the warehouse holds about one person, identified by their CCCD, as one JSON file and a
readable summary in Vietnamese (Markdown), under lake/privacy/exports/<request id>/ (restricted tier).

Sources of items, each with where it came from: bronze, silver and quarantine rows (table, file, line); every base
table of the warehouse (master record, history, snapshot, intermediate tables) and the `conformed.dim_citizen_history`
view; the shared file's rows under the person's keyed pseudonym; and the sharing service's access ledger
(lake/service/ledger/*.jsonl, when it exists): lines whose returned pseudonyms include the person's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.catalog import load_catalog
from ingestion.duckdb_delta import quoted
from ingestion.lake import Lake
from privacy.lake_rows import find_person_rows
from privacy.requests import RequestError, complete_request, get_request, privacy_root
from privacy.restriction import shared_text_columns
from privacy.warehouse_rows import find_rows
from sharing.pseudonym import pseudonym

HISTORY_VIEW = "conformed.dim_citizen_history"
LAYER_TITLES = {
    "bronze": "Dữ liệu thô (bronze)",
    "silver": "Dữ liệu đã chuẩn hoá (silver)",
    "quarantine": "Dữ liệu bị cách ly (quarantine)",
    "warehouse": "Kho dữ liệu (warehouse.duckdb)",
    "shared": "Tệp dữ liệu dùng chung (đã bí danh hoá)",
    "ledger": "Nhật ký truy cập dịch vụ chia sẻ",
}


def exports_dir(lake: Lake, request_id: str) -> Path:
    return privacy_root(lake) / "exports" / request_id


def ledger_dir(lake: Lake) -> Path:
    return lake.root / "service" / "ledger"


def _lake_items(lake: Lake, cccd: str) -> list[dict]:
    items = []
    for found in find_person_rows(lake, (cccd,)):
        file_column, line_column = (
            ("source_file", "row_number") if found.layer == "quarantine" else ("_source_file", "_row_number")
        )
        for row in found.rows.iter_rows(named=True):
            items.append(
                {
                    "layer": found.layer,
                    "table": found.table,
                    "source": found.source,
                    "file": row.get(file_column),
                    "line": row.get(line_column),
                    "record": {k: v for k, v in row.items() if k not in ("_file_hash",)},
                }
            )
    return items


def _warehouse_items(lake: Lake, cccd: str) -> list[dict]:
    if not lake.warehouse.exists():
        return []
    items = []
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        database = con.execute("select current_database()").fetchall()[0][0]
        found = find_rows(con, database, (cccd,))
        views = {f"{s}.{v}" for s, v in con.execute("select schema_name, view_name from duckdb_views()").fetchall()}
        if HISTORY_VIEW in views:
            cursor = con.execute(f"select * from {HISTORY_VIEW} where cccd = ?", [cccd])
            columns = [d[0] for d in cursor.description]
            found[HISTORY_VIEW] = [dict(zip(columns, r)) for r in cursor.fetchall()]
    for table, rows in found.items():
        items += [{"layer": "warehouse", "table": table, "file": lake.warehouse.name, "record": r} for r in rows]
    return items


def _shared_items(lake: Lake, key_value: str) -> list[dict]:
    if not lake.shared_marts.exists():
        return []
    items = []
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:
        for schema, table, column in shared_text_columns(con):
            cursor = con.execute(
                f"select * from {quoted(schema)}.{quoted(table)} where {quoted(column)} = ?", [key_value]
            )
            names = [d[0] for d in cursor.description]
            where = {"layer": "shared", "table": f"{schema}.{table}", "file": lake.shared_marts.name}
            items += [{**where, "record": dict(zip(names, r))} for r in cursor.fetchall()]
    return items


def _holds(value, needle: str) -> bool:
    if isinstance(value, dict):
        return any(_holds(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(_holds(v, needle) for v in value)
    return value == needle


def _ledger_items(lake: Lake, key_value: str) -> list[dict]:
    folder = ledger_dir(lake)
    if not folder.is_dir():
        return []
    items = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".ndjson", ".json")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if _holds(entry, key_value):
                where = {"layer": "ledger", "table": "service/ledger", "file": str(path.relative_to(lake.root))}
                items.append({**where, "line": number, "record": entry})
    return items


def export_person(lake: Lake, request_id: str, key: bytes) -> dict:
    """Write export.json and tom_tat.md for access request `request_id`; returns counts per layer and source."""
    request = get_request(lake, request_id)
    if request.type != "access" or not request.cccd:
        raise RequestError(f"Yêu cầu {request_id} không phải yêu cầu truy cập dữ liệu.")
    key_value = pseudonym(request.cccd, "cccd", key)
    items = [
        *_lake_items(lake, request.cccd),
        *_warehouse_items(lake, request.cccd),
        *_shared_items(lake, key_value),
        *_ledger_items(lake, key_value),
    ]
    titles = {name: s.title for name, s in load_catalog().items()}
    sources = sorted({i["source"] for i in items if i.get("source")})
    export = {
        "request_id": request_id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "subject": {"cccd": request.cccd},
        "sources": sources,
        "items": items,
    }
    folder = exports_dir(lake, request_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "export.json").write_text(json.dumps(export, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    (folder / "tom_tat.md").write_text(_summary(export, titles), encoding="utf-8")
    complete_request(lake, request_id, f"export {folder.name}/export.json, {len(items)} items")
    by_layer: dict[str, int] = {}
    for item in items:
        by_layer[item["layer"]] = by_layer.get(item["layer"], 0) + 1
    return {"items": len(items), "sources": sources, "by_layer": by_layer, "folder": str(folder)}


def _summary(export: dict, titles: dict[str, str]) -> str:
    lines = [
        f"# Dữ liệu cá nhân đang được lưu giữ — yêu cầu {export['request_id']}",
        "",
        f"Lập lúc {export['generated_at']} theo Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15.",
        f"Số CCCD: {export['subject']['cccd']}. Tổng số mục: {len(export['items'])}.",
        "",
        "## Các nguồn dữ liệu có thông tin của công dân",
        "",
        *[f"- {titles.get(s, s)} (`{s}`)" for s in export["sources"]],
        "",
    ]
    for layer, title in LAYER_TITLES.items():
        part = [i for i in export["items"] if i["layer"] == layer]
        if not part:
            continue
        lines += [f"## {title}: {len(part)} mục", "", "| bảng | tệp | dòng |", "|---|---|---|"]
        lines += [f"| {i['table']} | {i.get('file') or ''} | {i.get('line') or ''} |" for i in part]
        lines.append("")
    lines.append("Chi tiết từng bản ghi: tệp export.json cùng thư mục.")
    return "\n".join(lines) + "\n"

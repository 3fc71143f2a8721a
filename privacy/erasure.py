"""Erase one person (a request of type `erase`): from bronze, silver and quarantine (Delta delete, then vacuum and
log clean-up so no version still reads them), from every table of the warehouse (snapshots and history included),
from the quality artefacts, and from the shared file (rebuilt); then the person's own PII scan over the shared file
and the exports, the suppression list, and a receipt that names the person only by a keyed hash.

The marts are aggregates: they count the person until the next refresh rebuilds them from silver (the deletes are
silver rewrites, `ingestion/duckdb_delta.last_rewrite`, so the incremental citizen chain rebuilds whole).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.lake import Lake
from ingestion.warehouse_sources import expose_silver
from privacy.artefacts import quality_folders, redact_files, redact_validation_results
from privacy.lake_rows import delete_person_rows, find_person_rows
from privacy.person_scan import scan_exports, scan_shared_file
from privacy.requests import RequestError, complete_request, get_request, privacy_root
from privacy.subject import find_subject
from privacy.suppression import add_to_suppression
from privacy.warehouse_rows import erase_rows
from sharing.config import load_config
from sharing.shared_file import build_shared_file


def receipts_dir(lake: Lake) -> Path:
    return privacy_root(lake) / "receipts"


def erase(lake: Lake, request_id: str, key: bytes) -> dict:
    """Carry out erasure request `request_id`; returns the receipt (also written to receipts/<id>.json)."""
    request = get_request(lake, request_id)
    if request.type != "erase" or request.status == "completed" or not request.cccd:
        raise RequestError(
            f"Yêu cầu {request_id} không phải yêu cầu xoá đang chờ xử lý ({request.type}, {request.status})."
        )
    subject = find_subject(lake, request.cccd)
    found = find_person_rows(lake, subject.identifiers)
    removed = delete_person_rows(lake, subject.identifiers, found)
    warehouse = []
    if lake.warehouse.exists():
        with duckdb.connect(str(lake.warehouse)) as con:
            database = con.execute("select current_database()").fetchall()[0][0]
            warehouse = erase_rows(con, database, subject.identifiers, subject.values)
            con.execute("checkpoint")
        expose_silver(lake)  # the silver views named files the vacuum removed
    validation_rows = redact_validation_results(lake, subject.values)
    docs = [f"{where.name}/{name}" for where in quality_folders(lake) for name in redact_files(where, subject.values)]
    shared = None
    if lake.warehouse.exists() and lake.shared_marts.exists():
        outcome = build_shared_file(lake, load_config(), key)
        shared = {t.name: t.rows for t in outcome.tables if t.name.startswith("records.")}
    add_to_suppression(lake.root, request.subject_hash, request_id)
    receipt = {
        "request_id": request_id,
        "type": "erase",
        "subject_hash": request.subject_hash,
        "subject_hash_method": "HMAC-SHA256(TN_PSEUDONYM_KEY, 'privacy-subject:' + CCCD), 128 bits",
        "received_at": request.received_at.isoformat(),
        "deadline": request.deadline.isoformat(),
        "completed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "values_searched": {"cccd": 1, "phones": len(subject.phones), "names": len(subject.names)},
        "lake": [asdict(r) for r in removed],
        "warehouse": [asdict(h) for h in warehouse],
        "quality": {"validation_result_rows_redacted": validation_rows, "files_redacted": docs},
        "shared_file": {"rebuilt": shared is not None, "record_rows_after": shared},
        "scan_after": {
            "shared_file": scan_shared_file(lake, subject.needles),
            "exports": scan_exports(lake, subject.needles),
        },
        "exports_note": (
            "lake/published và lake/open_data chỉ chứa số liệu tổng hợp (không có dòng theo cá nhân); "
            "được quét lại, tổng hợp được tính lại ở lần làm mới tiếp theo."
        ),
        "suppression": "subject_hash added: a resent extract's rows of this person are dropped before silver",
    }
    receipts_dir(lake).mkdir(parents=True, exist_ok=True)
    path = receipts_dir(lake) / f"{request_id}.json"
    path.write_text(json.dumps(receipt, ensure_ascii=False, indent=2), encoding="utf-8")
    complete_request(lake, request_id, f"receipt {path.name}", forget_cccd=True)
    return receipt

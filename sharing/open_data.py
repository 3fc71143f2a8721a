"""Open-data export: shared aggregates as CSV (UTF-8) and Parquet, each with a DCAT entry, in one catalog.

    lake/open_data/catalog.json                      dcat:Catalog listing every dcat:Dataset (JSON-LD)
    lake/open_data/<dataset>/<dataset>.csv|.parquet  the data (CSV: UTF-8, header, comma, ISO dates, '.' decimals)
    lake/open_data/<dataset>/metadata.json           the dataset's own catalog entry

Read from the shared marts file (already pseudonymised and suppressed), so open data inherits its protections.
Every dataset is written to a temporary folder and PII-scanned there (sharing/pii_scan.py, as the shared file): on a
hit nothing is renamed into place (the previous datasets and catalog stay); else each is renamed into place and the
catalog is replaced atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sharing.config import SharedTable, SharingConfig
from sharing.pii_scan import Needles, refuse_leaks, scan_parquet

FREQUENCIES = {  # Dublin Core collection frequency vocabulary
    "daily": "http://purl.org/cld/freq/daily",
    "weekly": "http://purl.org/cld/freq/weekly",
    "monthly": "http://purl.org/cld/freq/monthly",
    "irregular": "http://purl.org/cld/freq/irregular",
    "annual": "http://purl.org/cld/freq/annual",
}
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "csvw": "http://www.w3.org/ns/csvw#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def xsd_type(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"):
        return "xsd:integer"
    if t.startswith("DECIMAL") or t in ("DOUBLE", "FLOAT", "REAL"):
        return "xsd:decimal"
    if t == "BOOLEAN":
        return "xsd:boolean"
    if t == "DATE":
        return "xsd:date"
    if t.startswith("TIMESTAMP"):
        return "xsd:dateTime"
    return "xsd:string"


def _lang(vi: str, en: str) -> list[dict]:
    return [{"@language": "vi", "@value": vi}, {"@language": "en", "@value": en}]


@dataclass
class ExportedDataset:
    dataset: str
    table: str
    rows: int
    entry: dict


def _entry(
    table: SharedTable,
    config: SharingConfig,
    columns: list[tuple[str, str]],
    rows: int,
    temporal: tuple | None,
    files: dict[str, Path],
    modified: datetime,
) -> dict:
    od = table.open_data
    publisher = config.publisher
    entry = {
        "@type": "dcat:Dataset",
        "@id": f"open_data/{od.dataset}",
        "dct:identifier": od.dataset,
        "dct:title": _lang(od.title_vi, od.title_en),
        "dct:description": _lang(od.description_vi, od.description_en),
        "dct:publisher": {
            "@type": "foaf:Agent",
            "foaf:name": _lang(publisher.get("name_vi", ""), publisher.get("name_en", "")),
            "foaf:homepage": publisher.get("homepage"),
        },
        "dct:accrualPeriodicity": {"@id": FREQUENCIES.get(od.frequency, od.frequency)},
        "dct:license": {"@id": od.licence, "dct:title": od.licence_title},
        "dct:modified": modified.isoformat(timespec="seconds"),
        "dct:spatial": od.spatial,
        "dct:language": ["vi", "en"],
        "dcat:keyword": list(od.keywords),
        "dct:source": table.name,
        "rows": rows,
        "csvw:tableSchema": {
            "csvw:column": [
                {
                    "csvw:name": name,
                    "csvw:datatype": xsd_type(data_type),
                    **(
                        {"dct:title": _lang(od.column_titles[name]["vi"], od.column_titles[name]["en"])}
                        if name in od.column_titles
                        else {}
                    ),
                }
                for name, data_type in columns
            ]
        },
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dcat:downloadURL": f"{od.dataset}/{path.name}",
                "dct:format": fmt,
                "dcat:mediaType": media,
                "dcat:byteSize": path.stat().st_size,
                "dct:license": {"@id": od.licence},
                **({"csvw:encoding": "utf-8"} if fmt == "CSV" else {}),
            }
            for fmt, media, path in (
                ("CSV", "text/csv", files["csv"]),
                ("Parquet", "application/vnd.apache.parquet", files["parquet"]),
            )
        ],
    }
    if temporal and temporal[0] is not None:
        entry["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": str(temporal[0]),
            "dcat:endDate": str(temporal[1]),
        }
    return entry


def export_open_data(
    shared_file: Path, out_dir: Path, config: SharingConfig, *, needles: Needles, modified: datetime | None = None
) -> tuple[list[ExportedDataset], list[dict]]:
    """Write every configured open dataset present in the shared file; returns (exported, skipped). Raises
    PersonalDataLeak, publishing nothing, when the scan with `needles` (the population's) hits."""
    modified = modified or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    exported, skipped, staged = [], [], {}
    with duckdb.connect(str(shared_file), read_only=True) as con:
        present = {r[0] for r in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
        for table in config.open_datasets:
            od = table.open_data
            if table.name not in present:
                skipped.append({"dataset": od.dataset, "table": table.name, "reason": "not in the shared file"})
                continue
            columns = con.execute(
                f"select column_name, data_type from duckdb_columns() where schema_name = "
                f"'{table.schema}' and table_name = '{table.table}' order by column_index"
            ).fetchall()
            staging = out_dir / f".{od.dataset}.building"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            files = {"csv": staging / f"{od.dataset}.csv", "parquet": staging / f"{od.dataset}.parquet"}
            con.execute(
                f"copy {table.name} to '{files['csv']}' (format csv, header, delimiter ',', "
                "dateformat '%Y-%m-%d', timestampformat '%Y-%m-%dT%H:%M:%S')"
            )
            con.execute(f"copy {table.name} to '{files['parquet']}' (format parquet, compression zstd)")
            rows = con.execute(f"select count(*) from {table.name}").fetchall()[0][0]
            temporal = None
            if od.temporal_column and od.temporal_column in {c for c, _ in columns}:
                temporal = con.execute(
                    f'select min("{od.temporal_column}"), max("{od.temporal_column}") from {table.name}'
                ).fetchall()[0]
            entry = _entry(table, config, columns, rows, temporal, files, modified)
            (staging / "metadata.json").write_text(
                json.dumps({"@context": CONTEXT, **entry}, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            staged[od.dataset] = staging
            exported.append(ExportedDataset(od.dataset, table.name, rows, entry))
    try:
        # the CSV holds the Parquet's rows: scanning one scans both
        report = scan_parquet({f"open_data.{d}": f / f"{d}.parquet" for d, f in staged.items()}, needles)
        refuse_leaks(report, "open_data")
    except BaseException:
        for staging in staged.values():
            shutil.rmtree(staging, ignore_errors=True)
        raise
    for dataset, staging in staged.items():
        final, old = out_dir / dataset, out_dir / f".{dataset}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    catalog = {
        "@context": CONTEXT,
        "@type": "dcat:Catalog",
        "dct:title": _lang("Dữ liệu mở tỉnh Thái Nguyên", "Thái Nguyên province open data"),
        "dct:publisher": {
            "@type": "foaf:Agent",
            "foaf:name": _lang(config.publisher.get("name_vi", ""), config.publisher.get("name_en", "")),
        },
        "dct:modified": modified.isoformat(timespec="seconds"),
        "dct:license": {"@id": config.open_datasets[0].open_data.licence} if config.open_datasets else None,
        "dcat:dataset": [d.entry for d in exported],
    }
    tmp = out_dir / ".catalog.json.tmp"
    tmp.write_text(json.dumps(catalog, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, out_dir / "catalog.json")
    return exported, skipped

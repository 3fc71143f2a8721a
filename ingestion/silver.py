"""Silver: bronze rows typed, normalised and checked against the contract; the rest go to quarantine.

Every bronze row ends in exactly one place: silver, quarantine (with the rule it broke), or superseded (a
duplicate key in the same batch, or an older row replaced by an upsert). Silver is incremental: only bronze
files not yet applied (per the ingestion log) are typed and checked; `upsert` sources merge them on the
primary key with deltalake's merge, `append` sources add the rows whose key is new. A contract change (the
silver schema no longer matches) or a lake without a log rebuilds silver from bronze.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

from ingestion.bronze import LINEAGE_COLUMNS
from ingestion.catalog import Column, Source
from ingestion.ingestion_log import append_log, read_log
from ingestion.quarantine import replace_quarantine
from privacy.suppression import purge_suppressed
from sharing.redaction import redact

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
DATETIME_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
)
LOCAL_TZ = "Asia/Ho_Chi_Minh"  # datetimes are stored as naive local (UTC+7) time; offsets are converted
EXCEL_EPOCH = pl.date(1899, 12, 30)
TRUE_WORDS = ["true", "1", "có", "co", "x", "yes", "y", "c", "đúng"]
FALSE_WORDS = ["false", "0", "không", "khong", "no", "n", "k", "sai"]
# A typed column where more than this share of a file's values cannot be typed has changed type (drift),
# not merely some bad rows.
TYPE_CHANGE_SHARE = 0.5
TYPE_CHANGE_MIN_VALUES = 5
DELTA_TYPES = {
    "string": pl.String,
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "integer": pl.Int64,
    "float": pl.Float64,
    "boolean": pl.Boolean,
}
SILVER_LINEAGE = ["_source_file", "_row_number", "_ingested_at"]
SHOWN_CHARS = 60  # characters of a value quoted in a quarantine reason
DUPLICATE_REPORT = 20  # repeated keys listed in a build's report


@dataclass
class SilverBuild:
    bronze_rows: int
    silver_rows: int
    quarantined_rows: int
    superseded_rows: int
    reasons: dict[str, int]
    mode: str = "rebuilt"  # rebuilt | merged | appended | unchanged
    batch_rows: int = 0
    inserted_rows: int = 0
    updated_rows: int = 0
    files_applied: list[str] = field(default_factory=list)
    type_changes: list[str] = field(default_factory=list)
    duplicate_keys: list[str] = field(default_factory=list)  # repeated keys within a file: file and lines


def _clean_text(name: str, normalise: bool = True) -> pl.Expr:
    """NFC, trimmed, and empty → null: the same value always compares equal downstream."""
    text = (pl.col(name).str.normalize("NFC") if normalise else pl.col(name)).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def _clean(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`_clean_text` on every column; NFC only where a column holds non-ASCII text (ASCII is NFC already, and
    normalising is the costliest step of silver on codes, ids and dates)."""
    non_ascii = frame.select(pl.col(c).str.contains(r"[^\x00-\x7F]").any() for c in columns).row(0)
    return frame.with_columns(
        _few_values_cleaned(frame.get_column(c))
        if flag and _few_values(frame.get_column(c))
        else _clean_text(c, normalise=bool(flag))
        for c, flag in zip(columns, non_ascii)
    )


def _few_values(values: pl.Series) -> bool:
    return values.approx_n_unique() * 100 < values.len()


def _few_values_cleaned(values: pl.Series) -> pl.Expr:
    """A column of few distinct values (a status, a category) cleaned once per value, not once per row."""
    distinct = values.unique().drop_nulls()
    cleaned = distinct.to_frame().select(_clean_text(values.name)).to_series()
    return pl.col(values.name).replace_strict(distinct, cleaned, return_dtype=pl.String)


def _number(raw: pl.Expr, number_format: str) -> pl.Expr:
    """Text → Float64. `vi`: '1.234,5' and '1.234' (dots group thousands); plain '1234.5' still reads."""
    text = raw.str.replace_all(r"[\s\u00a0]", "")
    if number_format == "vi":
        text = (
            pl.when(text.str.contains(","))
            .then(text.str.replace_all(r"\.", "").str.replace(",", ".", literal=True))
            .when(text.str.contains(r"^[-+]?\d{1,3}(\.\d{3})+$"))
            .then(text.str.replace_all(r"\.", ""))
            .otherwise(text)
        )
    return text.cast(pl.Float64, strict=False)


def _datetime(raw: pl.Expr) -> pl.Expr:
    naive = [raw.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in DATETIME_FORMATS]
    with_offset = [
        raw.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False)
        .dt.convert_time_zone(LOCAL_TZ)
        .dt.replace_time_zone(None)
        for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%z")
    ]
    utc = [  # 'Z' suffix: UTC
        raw.str.strptime(pl.Datetime("us"), fmt, strict=False)
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(LOCAL_TZ)
        .dt.replace_time_zone(None)
        for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.fZ")
    ]
    dates = [raw.str.strptime(pl.Date, fmt, strict=False).cast(pl.Datetime("us")) for fmt in DATE_FORMATS]
    serial = raw.cast(pl.Float64, strict=False)
    excel = pl.when(serial.is_between(1, 80_000)).then(
        EXCEL_EPOCH.cast(pl.Datetime("us")) + pl.duration(milliseconds=(serial * 86_400_000).round(0).cast(pl.Int64))
    )
    return pl.coalesce([*with_offset, *utc, *naive, *dates, excel])


# The notations most extracts use, tried on every row; the rest are tried only on rows these leave untyped.
COMMON_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
COMMON_DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S")


def _typed(column: Column, number_format: str, *, all_notations: bool = True) -> pl.Expr:
    raw = pl.col(column.name)
    if column.type == "date":
        if not all_notations:
            return pl.coalesce([raw.str.strptime(pl.Date, fmt, strict=False) for fmt in COMMON_DATE_FORMATS])
        serial = raw.cast(pl.Float64, strict=False)
        candidates = [raw.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS]
        # Excel cells read as text show '2024-01-05 00:00:00'
        candidates.append(raw.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False).dt.date())
        candidates.append(
            pl.when(serial.is_between(1, 80_000) & (serial == serial.floor())).then(
                EXCEL_EPOCH + pl.duration(days=serial.cast(pl.Int64))
            )
        )
        return pl.coalesce(candidates)
    if column.type == "datetime":
        if not all_notations:
            iso_with_offset = (
                raw.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%z", strict=False)
                .dt.convert_time_zone(LOCAL_TZ)
                .dt.replace_time_zone(None)
            )
            return pl.coalesce(
                [
                    iso_with_offset,
                    *[raw.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in COMMON_DATETIME_FORMATS],
                ]
            )
        return _datetime(raw)
    if column.type == "integer":
        number = _number(raw, number_format)
        return pl.when(number == number.floor()).then(number.cast(pl.Int64, strict=False))
    if column.type == "float":
        return _number(raw, number_format)
    if column.type == "boolean":
        word = raw.str.to_lowercase()
        return pl.when(word.is_in(TRUE_WORDS)).then(True).when(word.is_in(FALSE_WORDS)).then(False)
    return raw


def _violations(column: Column) -> list[tuple[pl.Expr, pl.Expr]]:
    """One (broken, reason) pair per contract rule: `broken` is true on the rows that break it, `reason` says how,
    readably. Reasons are spelled only for broken rows: building them on every row costs more than all of typing."""
    raw, typed, name = pl.col(column.name), pl.col(f"__typed_{column.name}"), column.name
    shown = pl.lit("'") + _shortened(raw) + pl.lit("'")
    rules = [
        (
            raw.str.len_chars() > column.max_length,
            pl.lit(f"{name}: a value of ")
            + raw.str.len_chars().cast(pl.String)
            + pl.lit(f" characters is longer than max_length {column.max_length:,}"),
        )
    ]
    if column.required:
        rules.append((raw.is_null(), pl.lit(f"{name}: required value missing")))
    if column.type != "string":
        rules.append((raw.is_not_null() & typed.is_null(), pl.lit(f"{name}: not a valid {column.type} ") + shown))
    if column.pattern:
        rules.append(
            (
                raw.is_not_null() & ~raw.str.contains(column.pattern),
                pl.lit(f"{name}: ") + shown + pl.lit(f" does not match {column.pattern}"),
            )
        )
    if column.allowed:
        rules.append(
            (
                raw.is_not_null() & ~raw.is_in(list(column.allowed)),
                pl.lit(f"{name}: ") + shown + pl.lit(" is not an allowed value"),
            )
        )
    return rules


def _shortened(raw: pl.Expr) -> pl.Expr:
    """A value as a reason quotes it: whole when short, else its start and its length (never megabytes)."""
    return pl.when(raw.str.len_chars() > SHOWN_CHARS).then(raw.str.slice(0, SHOWN_CHARS) + pl.lit("…")).otherwise(raw)


def _quarantine_rows(source: Source, rejected: pl.DataFrame) -> pl.DataFrame:
    return rejected.select(
        source=pl.lit(source.name),
        stage=pl.lit("contract"),
        source_file=pl.col("_source_file").cast(pl.String),
        file_hash=pl.col("_file_hash").cast(pl.String),
        row_number="_row_number",
        reason="_reason",
        # an oversized value is kept up to its column's max_length: the row is recognisable, the quarantine small
        record=pl.struct(pl.col(c.name).str.slice(0, c.max_length) for c in source.columns).struct.json_encode(),
        ingested_at="_ingested_at",
    )


def expected_silver_schema(source: Source) -> dict[str, pl.DataType]:
    schema = {c.name: DELTA_TYPES[c.type] for c in source.columns}
    schema.update({"_source_file": pl.String, "_row_number": pl.Int64, "_ingested_at": pl.Datetime("us", "UTC")})
    return schema


def _silver_matches_contract(source: Source, silver_path: Path) -> bool:
    if not DeltaTable.is_deltatable(str(silver_path)):
        return False
    actual = pl.scan_delta(str(silver_path)).collect_schema()
    return dict(actual) == expected_silver_schema(source)


def type_changes(source: Source, checked: pl.DataFrame) -> list[str]:
    """Columns whose values in a file mostly fail to type: the department changed what it sends."""
    typed_columns = [c for c in source.columns if c.type != "string"]
    if not typed_columns or checked.is_empty():
        return []
    stats = (
        checked.group_by("_source_file")
        .agg(
            *[pl.col(c.name).is_not_null().sum().alias(f"n__{c.name}") for c in typed_columns],
            *[
                (pl.col(c.name).is_not_null() & pl.col(f"__typed_{c.name}").is_null()).sum().alias(f"bad__{c.name}")
                for c in typed_columns
            ],
            *[
                pl.col(c.name)
                .filter(pl.col(c.name).is_not_null() & pl.col(f"__typed_{c.name}").is_null())
                .first()
                .alias(f"eg__{c.name}")
                for c in typed_columns
            ],
        )
        .sort("_source_file")
    )
    found = []
    for row in stats.iter_rows(named=True):
        for column in typed_columns:
            n, bad = row[f"n__{column.name}"], row[f"bad__{column.name}"]
            if n >= TYPE_CHANGE_MIN_VALUES and bad > TYPE_CHANGE_SHARE * n:
                # logged and shown in Dagster: the example is cut short and redacted when it is personal
                example = redact(row[f"eg__{column.name}"][:SHOWN_CHARS], personal=column.pii)
                found.append(
                    f"{source.name}.{column.name} ('{column.header}'): type change in {row['_source_file']}: "
                    f"{bad:,} of {n:,} values are not of type {column.type} (e.g. {example!r})"
                )
    return found


def _check(source: Source, bronze: pl.LazyFrame) -> pl.DataFrame:
    present = set(bronze.collect_schema().names())
    bronze = bronze.select(
        *[pl.col(c) if c in present else pl.lit(None, dtype=pl.String).alias(c) for c in source.column_names],
        # the same file name and hash on every row of a file: categoricals hold them once (~0.5 GB on 5 M rows)
        pl.col("_source_file", "_file_hash").cast(pl.Categorical),
        "_row_number",
        "_ingested_at",
    )
    cleaned = _clean(bronze.collect(engine="streaming"), source.column_names).lazy().with_row_index("__i")
    # Dates and datetimes: common notations on every row first, every notation only where those failed.
    slow = [c for c in source.columns if c.type in ("date", "datetime")]
    typed = cleaned.with_columns(
        _typed(c, source.number_format, all_notations=c not in slow).alias(f"__typed_{c.name}") for c in source.columns
    ).collect()
    for column in slow:
        missed = typed.filter(pl.col(column.name).is_not_null() & pl.col(f"__typed_{column.name}").is_null())
        if not missed.is_empty():
            retyped = missed.select("__i", _typed(column, source.number_format).alias("v")).drop_nulls("v")
            # scatter into the one column: a join (`update`) would copy every column of millions of rows
            target = typed.get_column(f"__typed_{column.name}").clone()
            typed = typed.with_columns(target.scatter(retyped["__i"], retyped["v"]))
    return typed.with_columns(_reason_column(source, typed)).drop("__i")


def _reason_column(source: Source, typed: pl.DataFrame) -> pl.Series:
    """`_reason`: null on rows that keep every rule, else the rules they break ("; "-separated)."""
    rules = [rule for c in source.columns for rule in _violations(c)]
    no_reason = pl.repeat(None, typed.height, dtype=pl.String, eager=True).alias("_reason")
    if not rules:
        return no_reason
    broken = typed.filter(pl.any_horizontal(b for b, _ in rules).fill_null(False)).select(
        "__i", reason=pl.concat_str([pl.when(b).then(r) for b, r in rules], separator="; ", ignore_nulls=True)
    )
    return no_reason.scatter(broken["__i"], broken["reason"])


def _in_file_duplicates(source: Source, checked: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Rows that keep every rule but share their primary key with another line of the same file. `quarantine`:
    all such lines get a reason naming the lines; `keep_last`: the last line wins (superseded) and the lines are
    reported. Returns the frame and the report (file names and line numbers, never key values: keys can be CCCDs)."""
    keys = [f"__typed_{k}" for k in source.primary_key]
    ok = pl.col("_reason").is_null()
    if checked.is_empty() or not checked.select(pl.struct("_file_hash", *keys).filter(ok).is_duplicated().any()).item():
        return checked, []
    groups = (
        checked.filter(ok)
        .group_by("_file_hash", *keys)
        .agg(pl.col("_source_file").first(), lines=pl.col("_row_number").sort())
        .filter(pl.col("lines").list.len() > 1)
        .sort("_source_file", pl.col("lines").list.first())
    )
    report = [
        f"{row['_source_file']}: key {', '.join(source.primary_key)} repeated on lines "
        f"{', '.join(map(str, row['lines']))}" + (" (the last kept)" if source.duplicate_keys == "keep_last" else "")
        for row in groups.head(DUPLICATE_REPORT).iter_rows(named=True)
    ]
    if len(groups) > DUPLICATE_REPORT:
        report.append(f"… and {len(groups) - DUPLICATE_REPORT:,} more repeated keys")
    if source.duplicate_keys == "keep_last":
        return checked, report
    reasons = groups.select(
        "_file_hash",
        *keys,
        __duplicate=pl.lit(f"{', '.join(source.primary_key)}: the same key on lines '")
        + pl.col("lines").cast(pl.List(pl.String)).list.join(", ")
        + pl.lit("' of this file"),
    )
    flagged = checked.join(reasons, on=["_file_hash", *keys], how="left", nulls_equal=False, maintain_order="left")
    return flagged.with_columns(pl.coalesce("_reason", "__duplicate").alias("_reason")).drop("__duplicate"), report


def _silver_rows(source: Source, accepted: pl.DataFrame) -> pl.DataFrame:
    """The typed columns under their contract names, one row per primary key (the latest row wins)."""
    rows = accepted.select(
        *[pl.col(f"__typed_{c.name}").cast(DELTA_TYPES[c.type]).alias(c.name) for c in source.columns],
        pl.col("_source_file").cast(pl.String),
        "_row_number",
        "_ingested_at",
        pl.col("_file_hash").cast(pl.String),
    )
    latest_first = ["_ingested_at", "_source_file", "_row_number"]
    keys = list(source.primary_key)
    duplicated = rows.select(pl.struct(keys).is_duplicated().any()).item() if rows.height else False
    # Sorting millions of rows only to find no duplicate key is the costly part: skip it when keys are unique.
    return (
        (rows.sort(latest_first, descending=True).unique(keys, keep="first", maintain_order=True).sort(keys))
        if duplicated
        else rows
    )


def _per_file(frame: pl.DataFrame) -> dict[str, int]:
    if frame.is_empty():
        return {}
    counts = frame.group_by("_file_hash").len()
    return dict(zip(counts["_file_hash"], counts["len"]))


def build_silver(
    source: Source,
    bronze_path: Path,
    silver_path: Path,
    quarantine_path: Path,
    log_path: Path | None = None,
    *,
    rebuild: bool = False,
) -> SilverBuild:
    if not DeltaTable.is_deltatable(str(bronze_path)):
        return SilverBuild(0, 0, 0, 0, {}, mode="unchanged")  # every file so far was quarantined whole
    purge_suppressed(source, bronze_path, log_path)  # an erased person resent by a department never reaches silver
    bronze_all = pl.scan_delta(str(bronze_path))
    full = rebuild or log_path is None or not _silver_matches_contract(source, silver_path)
    if full:
        batch_scan, new_hashes = bronze_all, None
    else:
        applied = set(read_log(log_path, source.name, "silver")["file_hash"])
        bronze_hashes = set(bronze_all.select("_file_hash").unique().collect()["_file_hash"])
        new_hashes = sorted(bronze_hashes - applied)
        batch_scan = bronze_all.filter(pl.col("_file_hash").is_in(new_hashes))

    checked = _check(source, batch_scan) if (full or new_hashes) else None
    build = SilverBuild(0, 0, 0, 0, {}, mode="unchanged")
    if checked is not None:
        checked, build.duplicate_keys = _in_file_duplicates(source, checked)
        build.type_changes = type_changes(source, checked)
        build.batch_rows = checked.height
        files = checked.group_by("_file_hash").agg(pl.col("_source_file").first(), pl.len().alias("n"))
        rejected = checked.filter(pl.col("_reason").is_not_null())
        # Only the typed columns and lineage go on: the raw text of millions of rows is not copied a second time.
        accepted = (
            checked.lazy()
            .filter(pl.col("_reason").is_null())
            .select(*[f"__typed_{c.name}" for c in source.columns], *LINEAGE_COLUMNS)
            .collect()
        )
        del checked
        rows = _silver_rows(source, accepted)
        del accepted
        updated = pl.DataFrame(schema=rows.schema)
        if full:
            write_deltalake(
                str(silver_path), rows.drop("_file_hash").to_arrow(), mode="overwrite", schema_mode="overwrite"
            )
            replace_quarantine(quarantine_path, source.name, "contract", _quarantine_rows(source, rejected))
            inserted, build.mode = rows, "rebuilt"
        else:
            keys = list(source.primary_key)
            existing = pl.scan_delta(str(silver_path)).select(*keys, "_source_file", "_row_number").collect()
            # Rows silver already holds from this very file (a run that stopped before its log write) are
            # counted as this file's silver rows again, not as superseded, so the reconciliation still adds up.
            already = rows.join(existing, on=[*keys, "_source_file", "_row_number"], how="semi")
            fresh = rows.join(already.select(keys), on=keys, how="anti")
            if source.load_mode == "upsert":
                updated = fresh.join(existing.select(keys), on=keys, how="semi")
                inserted = pl.concat([fresh.join(updated.select(keys), on=keys, how="anti"), already])
                if not fresh.is_empty():
                    predicate = " AND ".join(f"t.{k} = s.{k}" for k in keys)
                    (
                        DeltaTable(str(silver_path))
                        .merge(
                            fresh.drop("_file_hash").to_arrow(),
                            predicate=predicate,
                            source_alias="s",
                            target_alias="t",
                            merge_schema=True,
                        )
                        .when_matched_update_all()
                        .when_not_matched_insert_all()
                        .execute()
                    )
                build.mode = "merged"
            else:
                new_keys = fresh.join(existing.select(keys), on=keys, how="anti")
                if not new_keys.is_empty():
                    write_deltalake(
                        str(silver_path), new_keys.drop("_file_hash").to_arrow(), mode="append", schema_mode="merge"
                    )
                inserted = pl.concat([new_keys, already])
                build.mode = "appended"
            replace_quarantine(
                quarantine_path, source.name, "contract", _quarantine_rows(source, rejected), file_hashes=new_hashes
            )
        build.inserted_rows, build.updated_rows = inserted.height, updated.height
        if log_path is not None:
            _log_silver(source, log_path, files, rejected, inserted, build.mode)
        build.files_applied = sorted(files["_source_file"].unique().to_list())  # no per-row Python

    reasons = _reasons(quarantine_path, source)
    build.reasons = reasons
    build.bronze_rows = bronze_all.select(pl.len()).collect().item()
    build.silver_rows = pl.scan_delta(str(silver_path)).select(pl.len()).collect().item()
    build.quarantined_rows = sum(reasons.values()) if reasons else 0
    build.quarantined_rows = _contract_quarantined(quarantine_path, source)
    build.superseded_rows = (
        _superseded_total(source, log_path)
        if log_path is not None
        else (build.bronze_rows - build.silver_rows - build.quarantined_rows)
    )
    return build


def _log_silver(source: Source, log_path: Path, files, rejected, inserted, mode: str) -> None:
    """One log row per file of the batch (`files`: _file_hash, _source_file, n)."""
    now = datetime.now(UTC)
    bad, new = _per_file(rejected), _per_file(inserted)
    entries = []
    for row in files.iter_rows(named=True):
        digest, n = row["_file_hash"], row["n"]
        q, i = bad.get(digest, 0), new.get(digest, 0)
        # this file's rows that did not add a key: in-batch duplicates, or an older row they replaced (upsert)
        superseded = n - q - i
        entries.append(
            {
                "source": source.name,
                "stage": "silver",
                "file": row["_source_file"],
                "file_hash": digest,
                "status": mode,
                "bronze_rows": n,
                "silver_rows": i,
                "quarantined_rows": q,
                "superseded_rows": superseded,
                "ingested_at": now,
            }
        )
    append_log(log_path, entries)


def _superseded_total(source: Source, log_path: Path) -> int:
    log = read_log(log_path, source.name, "silver")
    if log.is_empty():
        return 0
    last_rebuild = log.filter(pl.col("status") == "rebuilt")["ingested_at"].max()
    if last_rebuild is not None:
        log = log.filter(pl.col("ingested_at") >= last_rebuild)
    return int(log["superseded_rows"].sum())


def _contract_quarantined(quarantine_path: Path, source: Source) -> int:
    if not DeltaTable.is_deltatable(str(quarantine_path)):
        return 0
    return (
        pl.scan_delta(str(quarantine_path))
        .filter((pl.col("source") == source.name) & (pl.col("stage") == "contract"))
        .select(pl.len())
        .collect()
        .item()
    )


def _reasons(quarantine_path: Path, source: Source) -> dict[str, int]:
    if not DeltaTable.is_deltatable(str(quarantine_path)):
        return {}
    reasons = (
        pl.scan_delta(str(quarantine_path))
        .filter(pl.col("source") == source.name)
        .select(pl.col("reason").str.split("; ").explode().str.replace_all(r"'[^']*'", "<value>").alias("rule"))
        .group_by("rule")
        .len()
        .sort("rule")
        .collect()
    )
    return dict(zip(reasons["rule"], reasons["len"]))

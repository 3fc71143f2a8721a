"""Who a request is about: the CCCD, the phones and names the restricted tier holds for it, and its keyed hash."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl
from deltalake import DeltaTable

from ingestion.lake import Lake
from sharing.pii_scan import Needles
from sharing.pseudonym import pseudonym

# A separate HMAC domain: the hash in receipts and lists cannot be matched with the shared file's pseudonyms.
SUBJECT_DOMAIN = "privacy-subject"


def subject_hash(cccd: str, key: bytes) -> str:
    return pseudonym(cccd, SUBJECT_DOMAIN, key)


@dataclass(frozen=True)
class Subject:
    cccd: str
    phones: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def needles(self) -> Needles:
        return Needles.of(self.names, [self.cccd], self.phones)

    @property
    def identifiers(self) -> tuple[str, ...]:
        """Values that identify the person's rows on their own (names do not: two people can share one)."""
        return (self.cccd, *self.phones)

    @property
    def values(self) -> tuple[str, ...]:
        """Everything a search for the person looks for."""
        return (*self.identifiers, *self.names)


def find_subject(lake: Lake, cccd: str) -> Subject:
    """The person's phones and names from the population registry (silver) and the master record (the warehouse's
    `conformed.dim_citizen`, whose phone may come from another department). Opens the warehouse read-only: call it
    from a step in the warehouse pool."""
    frames = []
    path = lake.silver("citizens")
    if DeltaTable.is_deltatable(str(path), lake.storage_options_for(path) or None):
        scan = pl.scan_delta(str(path), storage_options=lake.storage_options_for(path) or None)
        frames.append(scan.filter(pl.col("cccd") == cccd).select("phone", "full_name").collect())
    if lake.warehouse.exists():
        with duckdb.connect(str(lake.warehouse), read_only=True) as con:
            if con.execute(MASTER_EXISTS).fetchall()[0][0]:
                rows = con.execute(MASTER_SQL, [cccd]).fetchall()
                frames.append(pl.DataFrame(rows, schema={"phone": pl.String, "full_name": pl.String}, orient="row"))
    rows = pl.concat(frames) if frames else pl.DataFrame(schema={"phone": pl.String, "full_name": pl.String})
    phones = tuple(sorted({p for p in rows["phone"] if p}))
    names = tuple(sorted({n for n in rows["full_name"] if n}))
    return Subject(cccd, phones, names)


MASTER_EXISTS = (
    "select count(*) from duckdb_tables() where schema_name = 'conformed' and table_name = 'dim_citizen' "
    "and database_name = current_database()"
)
MASTER_SQL = "select phone::varchar as phone, full_name::varchar as full_name from conformed.dim_citizen where cccd = ?"

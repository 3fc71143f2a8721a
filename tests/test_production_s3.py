"""The lake on S3-compatible object storage: configuration only (TN_LAKE_URI + AWS_* variables), tested against
moto's S3 server on loopback. The server runs in its own process: deltalake's Rust calls hold the GIL, so a
server thread inside the test process would never answer them."""

import socket
import subprocess
import sys
import time

import polars as pl
import pytest
from deltalake import DeltaTable

from ingestion.lake import Lake
from ingestion.sample_data import generate

BUCKET = "tn-lake"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"moto S3 server did not start on 127.0.0.1:{port}")
                time.sleep(0.1)
        import boto3

        boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket=BUCKET)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def s3_lake(s3_endpoint, tmp_path, monkeypatch, request) -> Lake:
    """Exactly what an operator sets to move the lake's Delta tables to object storage."""
    monkeypatch.setenv("TN_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("TN_LAKE_URI", f"s3://{BUCKET}/{request.node.name}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    lake = Lake.from_env()
    generate(lake.landing, scale="tiny", seed=7)
    return lake


def _s3_keys(endpoint: str, prefix: str) -> list[str]:
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_lake_reads_uri_and_storage_options_from_env_only(s3_lake, s3_endpoint):
    assert s3_lake.is_remote
    assert (
        str(s3_lake.silver("dossiers"))
        == f"s3://{BUCKET}/test_lake_reads_uri_and_storage_options_from_env_only/silver/dossiers"
    )
    assert s3_lake.storage_options["AWS_ENDPOINT_URL"] == s3_endpoint
    assert s3_lake.storage_options["AWS_ALLOW_HTTP"] == "true"
    assert s3_lake.landing.is_relative_to(s3_lake.root)  # landing zone and DuckDB file stay local


def test_delta_round_trip_on_s3_through_lake(s3_lake, s3_endpoint):
    frame = pl.DataFrame({"commune_code": ["05440", "05443"], "name": ["Phường Phan Đình Phùng", "Xã Đại Phúc"]})
    table = str(s3_lake.silver("probe"))
    frame.write_delta(table, storage_options=s3_lake.storage_options)
    frame.write_delta(table, mode="append", storage_options=s3_lake.storage_options)
    assert DeltaTable(table, storage_options=s3_lake.storage_options).version() == 1
    back = pl.scan_delta(table, storage_options=s3_lake.storage_options).collect()
    assert back.height == 4 and back["name"][1] == "Xã Đại Phúc"
    keys = _s3_keys(s3_endpoint, "test_delta_round_trip_on_s3_through_lake/silver/probe/")
    assert any(k.endswith("_delta_log/00000000000000000001.json") for k in keys)
    assert not (s3_lake.root / "silver").exists()  # nothing was written locally


def test_whole_refresh_runs_on_an_s3_lake(s3_lake, s3_endpoint, instance):
    """The real refresh job with the lake on S3: bronze, silver and their GX gates write and read the S3 tables,
    dbt reads silver from S3 (copied into the DuckDB file: DuckDB cannot reach S3 offline) and builds the marts.
    No code switch, only the environment."""
    import duckdb

    from orchestration.run_pipeline import run_refresh

    result = run_refresh(instance)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    evaluations = result.get_asset_check_evaluations()
    assert {e.asset_check_key.name for e in evaluations} >= {"gx_bronze_suite", "gx_silver_suite"}
    assert all(e.passed or e.severity.value == "WARN" for e in evaluations)  # the gates read the S3 tables

    dossiers = pl.scan_delta(str(s3_lake.silver("dossiers")), storage_options=s3_lake.storage_options).collect()
    bronze = pl.scan_delta(str(s3_lake.bronze("dossiers")), storage_options=s3_lake.storage_options)
    assert dossiers.height > 0 and dossiers["dossier_id"].is_unique().all()
    assert dossiers.height <= bronze.select(pl.len()).collect().item()
    prefix = "test_whole_refresh_runs_on_an_s3_lake/"
    layers = {k.removeprefix(prefix).split("/")[0] for k in _s3_keys(s3_endpoint, prefix)}
    assert layers >= {"bronze", "silver", "quarantine"}
    assert not (s3_lake.root / "bronze").exists() and not (s3_lake.root / "silver").exists()

    with duckdb.connect(str(s3_lake.warehouse), read_only=True) as con:
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_schema = 'silver'"
            ).fetchall()
        )
        assert kinds["dossiers"] == "BASE TABLE"  # copied from S3, not a view over local files
        assert con.execute("select count(*) from silver.dossiers").fetchone()[0] == dossiers.height
        marts = con.execute("select sum(received_count) from marts.mart_public_service_dossiers_monthly").fetchone()
        staged = con.execute("select count(*) from staging.stg_dossiers").fetchone()
    assert marts[0] == staged[0] > 0


def test_weekly_maintenance_compacts_and_vacuums_a_table_on_s3(s3_lake, s3_endpoint):
    from orchestration.lake_maintenance import maintain_table

    table, options = str(s3_lake.silver("probe")), s3_lake.storage_options
    for day in range(6):
        pl.DataFrame({"day": [day] * 3, "value": [1.5, 2.5, 3.5]}).write_delta(
            table, mode="append", storage_options=options
        )
    done = maintain_table("silver/probe", table, options, max_files=2, retention_hours=0)
    assert (done.files_before, done.files_after, done.files_vacuumed) == (6, 1, 6), done
    assert (
        pl.read_delta(table, storage_options=options)
        .sort("day")
        .equals(pl.DataFrame({"day": [d for d in range(6) for _ in range(3)], "value": [1.5, 2.5, 3.5] * 6}))
    )
    parquet = [
        k
        for k in _s3_keys(s3_endpoint, "test_weekly_maintenance_compacts_and_vacuums_a_table_on_s3/")
        if k.endswith(".parquet") and "_delta_log" not in k
    ]
    assert len(parquet) == 1

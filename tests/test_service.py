"""The sharing service (issue 18) on the real pipeline's output: one refresh of the tiny sample for the module, the
app through FastAPI's TestClient, answers compared with the same query run in DuckDB on the shared file."""

import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient

from ingestion.lake import PROJECT_ROOT, Lake
from service import cli
from service.app import create_app
from service.datasets import SharedFile
from service.queries import Page, QueryError, QueryTimeout, build_page, run, typed
from service.settings import Settings
from tests.pipeline_run import refreshed_lake

ON_TIME = "marts.mart_dossier_on_time_by_agency_month"
OPEN_ON_TIME = "ho-so-dung-han-theo-co-quan-thang"
JUSTICE = "H56.01"  # Sở Tư pháp's agency code in the sample
CONSUMERS = f"""
consumers:
  so-tu-phap:
    agency: Sở Tư pháp
    datasets:
      {ON_TIME}:
        rows: {{agency_code: {JUSTICE}}}
      records.dossiers:
        rows: {{agency_code: {JUSTICE}}}
        columns: [dossier_id, agency_code, received_date, status, applicant_key]
  ioc:
    agency: Trung tâm IOC
    datasets: [marts.*, conformed.dim_administrative_unit]
"""


@pytest.fixture(scope="module")
def refreshed(pseudonym_key, tmp_path_factory) -> Lake:
    with refreshed_lake(tmp_path_factory.mktemp("service")) as (lake, _, result):
        assert result.success
        yield lake


@pytest.fixture
def service_env(refreshed, tmp_path, monkeypatch):
    """Settings over the refreshed lake with this test's own consumers file, keys file and ledger (the CLI reads
    the same variables)."""
    consumers = tmp_path / "consumers.yaml"
    consumers.write_text(CONSUMERS, encoding="utf-8")
    monkeypatch.setenv("TN_LAKE_DIR", str(refreshed.root))
    monkeypatch.setenv("TN_SERVICE_CONSUMERS", str(consumers))
    monkeypatch.setenv("TN_SERVICE_KEYS", str(tmp_path / "keys.json"))
    monkeypatch.setenv("TN_SERVICE_LEDGER_DIR", str(tmp_path / "ledger"))
    monkeypatch.setenv("TN_SERVICE_RATE", "100000")  # the rate limit has a test of its own
    monkeypatch.setenv("TN_SERVICE_BURST", "100000")
    return Settings.from_env()


@pytest.fixture
def client(service_env):
    app = create_app(service_env)
    with TestClient(app) as test_client:
        yield test_client
    app.state.service.shared.close()


def issue(consumer: str, capsys) -> tuple[str, str]:
    assert cli.main(["issue", consumer]) == 0
    out = capsys.readouterr().out.splitlines()
    return out[0].split("mã khóa ")[1].split(")")[0], out[-1]


def shared(lake: Lake, sql: str, params=None) -> list[dict]:
    """The same question asked of the shared file directly, as JSON would carry it."""
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:
        relation = con.execute(sql, params or [])
        names = [d[0] for d in relation.description]
        return jsonable_encoder([dict(zip(names, row)) for row in relation.fetchall()])


def meta_title(open_dataset: str, client) -> str:
    return client.get(f"/datasets/{open_dataset}").json()["dct:title"][0]["@value"]


def ledger_rows(settings: Settings) -> list[dict]:
    return [json.loads(line) for path in sorted(settings.ledger.glob("*.jsonl")) for line in path.open()]


def all_pages(client, url: str, headers: dict, **params) -> list[dict]:
    rows, offset = [], 0
    while offset is not None:
        page = client.get(url, headers=headers, params={**params, "offset": offset})
        assert page.status_code == 200, page.text
        rows += page.json()["rows"]
        offset = page.json()["next_offset"]
    return rows


def test_keys_no_key_401_not_granted_403_revoked_401(client, service_env, capsys):
    key_id, key = issue("so-tu-phap", capsys)
    stored = service_env.keys.read_text()
    assert key not in stored and hashlib.sha256(key.encode()).hexdigest() in stored  # only the hash is kept
    assert oct(service_env.keys.stat().st_mode & 0o777) == "0o600"

    assert client.get(f"/datasets/{ON_TIME}/rows").status_code == 401
    assert client.get(f"/datasets/{ON_TIME}/rows", headers={"X-API-Key": key + "x"}).status_code == 401
    assert client.get(f"/datasets/{ON_TIME}/rows", headers={"X-API-Key": key}).status_code == 200
    assert client.get(f"/datasets/{ON_TIME}/rows", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    refused = client.get("/datasets/records.citizens/rows", headers={"X-API-Key": key})
    assert refused.status_code == 403 and "so-tu-phap" in refused.json()["detail"]
    assert client.get("/datasets/marts.no_such_mart/rows", headers={"X-API-Key": key}).status_code == 404

    assert cli.main(["revoke", key_id]) == 0  # the running service reads the keys file again: no restart
    assert client.get(f"/datasets/{ON_TIME}/rows", headers={"X-API-Key": key}).status_code == 401
    assert client.get(f"/datasets/{OPEN_ON_TIME}/rows", headers={"X-API-Key": key}).status_code == 401


def test_a_departments_key_sees_only_its_rows_and_columns(client, refreshed, capsys):
    _, key = issue("so-tu-phap", capsys)
    headers = {"X-API-Key": key}
    rows = all_pages(client, "/datasets/records.dossiers/rows", headers, limit=50)
    expected = shared(
        refreshed,
        "select dossier_id, agency_code, received_date, status, applicant_key from records.dossiers "
        "where agency_code = ? order by rowid",
        [JUSTICE],
    )
    assert len(expected) > 50 and rows == expected  # several pages, no row twice, none missing
    assert {r["agency_code"] for r in rows} == {JUSTICE}
    # asking for another department's rows finds none; a column outside the grant cannot even be filtered on
    other = client.get("/datasets/records.dossiers/rows", headers=headers, params={"agency_code": "H56.05"})
    assert other.status_code == 200 and other.json()["rows"] == []
    assert (
        client.get("/datasets/records.dossiers/rows", headers=headers, params={"commune_code": "1"}).status_code == 400
    )
    mart = client.get(f"/datasets/{ON_TIME}", headers=headers).json()
    assert mart["title"] == meta_title(OPEN_ON_TIME, client) and mart["open_data"] == OPEN_ON_TIME
    described = client.get("/datasets/records.dossiers", headers=headers).json()
    assert [c["name"] for c in described["columns"]] == [
        "dossier_id",
        "agency_code",
        "received_date",
        "status",
        "applicant_key",
    ]
    assert described["row_filter"] == {"agency_code": [JUSTICE]}
    listed = {d["id"] for d in client.get("/datasets", headers=headers).json()["datasets"]}
    assert {ON_TIME, "records.dossiers", OPEN_ON_TIME} <= listed and "records.citizens" not in listed


def test_open_data_without_a_key_equals_its_parquet_file(client, refreshed):
    listed = client.get("/datasets").json()["datasets"]
    assert {d["access"] for d in listed} == {"open"} and OPEN_ON_TIME in {d["id"] for d in listed}
    meta = client.get(f"/datasets/{OPEN_ON_TIME}").json()
    assert meta["dct:title"][0]["@value"].startswith("Tỷ lệ hồ sơ") and meta["columns"][0]["name"] == "agency_code"
    parquet = refreshed.open_data / OPEN_ON_TIME / f"{OPEN_ON_TIME}.parquet"
    page = client.get(
        f"/datasets/{OPEN_ON_TIME}/rows", params={"month__gte": "2026-10-01", "sort": "-month,agency_code"}
    )
    assert page.status_code == 200
    assert page.json()["rows"] == shared(
        refreshed,
        f"select * from read_parquet('{parquet}') where month >= '2026-10-01' order by month desc, agency_code",
    )
    assert client.get(f"/datasets/{ON_TIME}/rows").status_code == 401  # the same mart in the shared tier needs a key
    assert client.get(f"/datasets/{ON_TIME}").status_code == 401


@pytest.mark.parametrize(
    "params, sql, args",
    [
        ({}, f"select * from {ON_TIME} order by rowid limit 100", []),
        (
            {"month": "2026-10-01", "sort": "-on_time_rate,agency_code"},
            f"select * from {ON_TIME} where month = '2026-10-01' order by on_time_rate desc, agency_code",
            [],
        ),
        (
            {
                "agency_code__in": "H56.01,H56.05",
                "month__gte": "2026-09-01",
                "month__lt": "2026-11-01",
                "sort": "month",
            },
            f"select * from {ON_TIME} where agency_code in ('H56.01', 'H56.05') and month >= '2026-09-01' "
            "and month < '2026-11-01' order by month, rowid",
            [],
        ),
        (
            {
                "resolved_count__gt": "20",
                "on_time_rate__lte": "0.95",
                "sort": "-resolved_count",
                "limit": "3",
                "offset": "2",
            },
            f"select * from {ON_TIME} where resolved_count > 20 and on_time_rate <= 0.95 "
            "order by resolved_count desc, rowid limit 3 offset 2",
            [],
        ),
        (
            {"commune_name": "Ea H'Leo"},  # a quote is data here, matched as written
            "select * from conformed.dim_administrative_unit where commune_name = ? order by rowid",
            ["Ea H'Leo"],
        ),
    ],
)
def test_rows_equal_the_same_query_in_duckdb(client, refreshed, capsys, params, sql, args):
    _, key = issue("ioc", capsys)
    dataset = "conformed.dim_administrative_unit" if "commune_name" in params else ON_TIME
    response = client.get(f"/datasets/{dataset}/rows", headers={"X-API-Key": key}, params=params)
    assert response.status_code == 200, response.text
    expected = shared(refreshed, sql, args)
    assert response.json()["rows"] == expected and expected
    files = {
        fmt: client.get(f"/datasets/{dataset}/rows", headers={"X-API-Key": key}, params={**params, "format": fmt})
        for fmt in ("parquet", "csv")
    }
    assert {f.status_code for f in files.values()} == {200}
    parquet = pl.read_parquet(io.BytesIO(files["parquet"].content))
    assert jsonable_encoder(parquet.to_dicts()) == expected
    csv = pl.read_csv(io.BytesIO(files["csv"].content), schema=parquet.schema)
    assert csv.equals(parquet)


def test_the_ledger_has_one_row_per_request_and_no_raw_numbers(client, service_env, capsys):
    _, key = issue("so-tu-phap", capsys)
    headers = {"X-API-Key": key}
    requests = [
        ("/datasets", {}, {}, 200),
        (f"/datasets/{OPEN_ON_TIME}/rows", {}, {"format": "csv"}, 200),
        (f"/datasets/{ON_TIME}/rows", {}, {}, 401),
        ("/datasets/records.citizens/rows", headers, {}, 403),
        ("/datasets/records.dossiers/rows", headers, {"limit": "7", "sort": "-received_date"}, 200),
        ("/datasets/records.dossiers/rows", headers, {"dossier_id": "012345678901"}, 200),  # a CCCD-like value
        ("/datasets/records.dossiers/rows", headers, {"limit": "0"}, 400),
        ("/datasets/0987654321/rows", headers, {}, 404),
        ("/no/such/route", {}, {}, 404),
        ("/openapi.json", {}, {}, 200),
    ]
    answers = [client.get(url, headers=h, params=p) for url, h, p, _ in requests]
    assert [a.status_code for a in answers] == [status for *_, status in requests]

    logged = ledger_rows(service_env)
    assert len(logged) == len(requests)
    assert [e["status"] for e in logged] == [status for *_, status in requests]
    assert [e["path"] for e in logged][:5] == [url for url, *_ in requests][:5]
    dossiers = logged[4]
    assert dossiers["consumer"] == "so-tu-phap" and dossiers["agency"] == "Sở Tư pháp" and dossiers["rows"] == 7
    assert dossiers["sort"] == "-received_date" and dossiers["limit"] == "7" and dossiers["duration_ms"] > 0
    # person-level rows: which pseudonyms were returned, to answer "who has read my data"
    returned = sorted({r["applicant_key"] for r in answers[4].json()["rows"]})
    assert dossiers["pseudonyms"] == returned and len(returned[0]) == 32
    assert logged[0]["pseudonyms"] is None and logged[2]["consumer"] is None
    text = "".join(p.read_text() for p in service_env.ledger.glob("*.jsonl"))
    assert "012345678901" not in text and "0987654321" not in text  # kept as their shape only
    assert logged[5]["filters"] == {"dossier_id": "<12 digits>"}

    today = datetime.now(UTC).date().isoformat()
    assert cli.main(["ledger", "--from", today, "--to", today]) == 0
    exported = pl.read_csv(io.StringIO(capsys.readouterr().out), infer_schema=False)
    assert exported.height == len(requests) and exported["status"].to_list() == [str(s) for *_, s in requests]
    assert cli.main(["ledger", "--from", today, "--pseudonym", returned[0]]) == 0
    who_read = pl.read_csv(io.StringIO(capsys.readouterr().out), infer_schema=False)
    assert who_read["consumer"].to_list() == ["so-tu-phap"] and who_read["dataset"].to_list() == ["records.dossiers"]


INJECTED_PARAMS = [
    {"agency_code'": "x"},
    {"agency_code;drop table records.dossiers": "x"},
    {"agency_code--": "x"},
    {"agеncy_code": JUSTICE},  # Cyrillic е
    {"agency_code__gte;": JUSTICE},
    {"agency_code__like": "H%"},
    {"rowid": "1"},
    {"1=1": "1"},
    {"sort": "month;drop table x"},
    {"sort": "month desc"},
    {"sort": "-month--"},
    {"sort": "(select 1)"},
    {"sort": "rowid"},
    {"sort": "mоnth"},  # Cyrillic о
    {"limit": "10;"},
    {"limit": "1e9"},
    {"limit": "-1"},
    {"limit": "99999999999999999999999999"},
    {"limit": "1001"},
    {"limit": "10 or 1=1"},
    {"offset": "-1"},
    {"offset": "1' or '1'='1"},
    {"offset": "9" * 40},
    {"format": "json;"},
    {"format": "../../../etc/passwd"},
    {"month": "2026-10-01' or 1=1--"},
    {"month__gte": "2026-10-01;"},
    {"month": "２０２６-10-01"},  # full-width digits
    {"received_count": "1 or 1=1"},
    {"received_count": "99999999999999999999999"},
    {"on_time_rate": "1e308"},
    {"on_time_rate": "NaN"},
    {"agency_code": "H56\u200b.01"},  # zero-width space: looks like H56.01
    {"agency_code": "H56.01\x00"},
    {"agency_name": "So\u031b\u0309 Tu\u031b pha\u0301p"},  # Sở Tư pháp, decomposed (not NFC)
    {"agency_code__in": ",".join(["H56.01"] * 101)},
]
INJECTED_DATASETS = [
    "../shared_marts",
    "..%2F..%2Fwarehouse",
    f"{ON_TIME};drop",
    f"{ON_TIME}'--",
    "sharing.tables",
    "main.duckdb_tables",
    "%2e%2e",
    "ｍarts.mart_dossier_on_time_by_agency_month",
]


def test_injection_attempts_are_refused_and_the_query_stays_the_same(client, refreshed, capsys):
    _, key = issue("ioc", capsys)
    headers = {"X-API-Key": key}
    before = hashlib.sha256(refreshed.shared_marts.read_bytes()).hexdigest()
    baseline = client.get(f"/datasets/{ON_TIME}/rows", headers=headers).json()
    for params in INJECTED_PARAMS:
        answer = client.get(f"/datasets/{ON_TIME}/rows", headers=headers, params=params)
        assert answer.status_code == 400, (params, answer.status_code)
    for dataset in INJECTED_DATASETS:
        for suffix in ("", "/rows"):
            answer = client.get(f"/datasets/{dataset}{suffix}", headers=headers)
            assert answer.status_code == 404, (dataset, answer.status_code)
    # a text value is bound: an attack in it is a value no row has, and the SQL is the SQL of any other value
    attack = client.get(f"/datasets/{ON_TIME}/rows", headers=headers, params={"agency_code": "x' or '1'='1"})
    assert attack.status_code == 200 and attack.json()["rows"] == []
    with SharedFile(refreshed.shared_marts).reading() as (datasets, _):
        plain = build_page(datasets[ON_TIME], None, [("agency_code", JUSTICE)], 1000)
        injected = build_page(datasets[ON_TIME], None, [("agency_code", "x' or '1'='1; --")], 1000)
    assert injected.sql == plain.sql and "x' or" not in injected.sql and injected.params[0] == "x' or '1'='1; --"
    assert hashlib.sha256(refreshed.shared_marts.read_bytes()).hexdigest() == before
    assert client.get(f"/datasets/{ON_TIME}/rows", headers=headers).json() == baseline


def test_every_text_value_of_the_shared_tier_is_accepted_as_a_filter(refreshed):
    """The value checks refuse no value the tier holds (quotes, ';', µ, masked phones are all real)."""
    with duckdb.connect(str(refreshed.shared_marts), read_only=True) as con:
        columns = con.execute(
            "select schema_name || '.' || table_name, column_name from duckdb_columns() "
            "where data_type = 'VARCHAR' and database_name = current_database() and schema_name <> 'sharing'"
        ).fetchall()
        values = {v for t, c in columns for (v,) in con.execute(f'select distinct "{c}" from {t}').fetchall() if v}
    assert len(values) > 1000
    refused = []
    for value in values:
        try:
            typed("xsd:string", value)
        except QueryError:
            refused.append(value)
    assert refused == []


def test_grants_apply_without_a_restart(client, service_env, capsys):
    _, key = issue("so-tu-phap", capsys)
    url = "/datasets/conformed.dim_administrative_unit/rows"
    assert client.get(url, headers={"X-API-Key": key}).status_code == 403
    service_env.consumers.write_text(
        CONSUMERS.replace("    datasets:\n", "    datasets:\n      conformed.dim_administrative_unit:\n", 1),
        encoding="utf-8",
    )
    assert client.get(url, headers={"X-API-Key": key}).status_code == 200
    service_env.consumers.write_text("consumers: {}\n", encoding="utf-8")  # the account is closed
    assert client.get(url, headers={"X-API-Key": key}).status_code == 401


def test_a_department_reads_its_own_receipts_and_no_one_elses(client, refreshed, service_env, capsys):
    service_env.consumers.write_text(
        CONSUMERS + "  so-y-te:\n    agency: Sở Y tế\n    datasets: []\n", encoding="utf-8"
    )
    _, health = issue("so-y-te", capsys)
    _, justice = issue("so-tu-phap", capsys)
    outbox = refreshed.root / "outbox" / "so-y-te"
    on_disk = sorted(
        f"{p.parent.name}/{p.name}" for p in outbox.glob("*/*") if p.name.endswith((".receipt.xlsx", ".csv"))
    )
    assert len(on_disk) >= 3

    listing = client.get("/receipts", headers={"X-API-Key": health})
    assert listing.status_code == 200 and listing.json()["department"] == "Sở Y tế"
    assert sorted(f"{r['source']}/{r['file']}" for r in listing.json()["receipts"]) == on_disk
    report = next(name for name in on_disk if name.endswith(".rejected.csv"))
    got = client.get(f"/receipts/{report}", headers={"X-API-Key": health})
    assert got.status_code == 200 and got.content == (outbox / report).read_bytes()
    assert got.headers["content-type"].startswith("text/csv")

    assert client.get("/receipts").status_code == 401
    assert client.get("/receipts", headers={"X-API-Key": justice}).json()["receipts"] == []  # no file of its own
    assert client.get(f"/receipts/{report}", headers={"X-API-Key": justice}).status_code == 404
    source, name = report.split("/")
    for trick in (f"{source}/..%2F..%2Fwarehouse.duckdb", f"..%2Fso-y-te%2F{source}/{name}", f"{source}/{name}%00"):
        assert client.get(f"/receipts/{trick}", headers={"X-API-Key": justice}).status_code == 404


def test_rate_limit_per_consumer(refreshed, service_env, capsys):
    _, key = issue("ioc", capsys)
    settings = Settings(**{**service_env.__dict__, "rate_per_second": 0.5, "burst": 2})
    with TestClient(create_app(settings)) as limited:
        answers = [limited.get(f"/datasets/{ON_TIME}/rows", headers={"X-API-Key": key}) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert int(answers[2].headers["Retry-After"]) >= 1
        assert limited.get(f"/datasets/{OPEN_ON_TIME}/rows").status_code == 200  # the public has its own bucket
    assert [e["status"] for e in ledger_rows(settings)] == [200, 200, 429, 200]


def test_a_slow_query_is_interrupted():
    slow = Page("select count(*) from range(10000000000) t(i) where i % 7 = 3", [], ["n"], 1, 0, "json")
    started = time.perf_counter()
    with duckdb.connect() as con, pytest.raises(QueryTimeout):
        run(con, slow, timeout_seconds=0.3)
    assert time.perf_counter() - started < 5


def _republish(lake: Lake, sql: str) -> None:
    """What a refresh does: a new file under another name, renamed over the shared file."""
    building = lake.shared_marts.with_name("building.duckdb")
    shutil.copyfile(lake.shared_marts, building)
    with duckdb.connect(str(building)) as con:
        con.execute(sql)
    os.replace(building, lake.shared_marts)


def test_a_republished_shared_file_is_served_without_failing_a_request(refreshed, tmp_path, capsys, monkeypatch):
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    shutil.copyfile(refreshed.shared_marts, lake.shared_marts)
    shutil.copytree(refreshed.open_data, lake.open_data)
    monkeypatch.setenv("TN_LAKE_DIR", str(lake.root))
    monkeypatch.setenv("TN_SERVICE_KEYS", str(tmp_path / "keys.json"))
    monkeypatch.setenv("TN_SERVICE_LEDGER_DIR", str(tmp_path / "ledger"))
    (tmp_path / "consumers.yaml").write_text(CONSUMERS, encoding="utf-8")
    monkeypatch.setenv("TN_SERVICE_CONSUMERS", str(tmp_path / "consumers.yaml"))
    monkeypatch.setenv("TN_SERVICE_RATE", "100000")
    _, key = issue("ioc", capsys)
    settings = Settings.from_env()
    app = create_app(settings)
    url, headers = f"/datasets/{ON_TIME}/rows", {"X-API-Key": key}
    rows = len(shared(lake, f"select * from {ON_TIME}"))

    # a request that started on the old file finishes on it, the next one reads the new file
    with app.state.service.shared.reading() as (datasets, cursor):
        _republish(lake, f"delete from {ON_TIME} where agency_code = '{JUSTICE}'")
        page = build_page(datasets[ON_TIME], None, [("limit", "1000")], 1000)
        assert run(cursor, page, 10).num_rows == rows
    with TestClient(app) as test_client:
        assert test_client.get(url, headers=headers, params={"limit": 1000}).json()["count"] == rows - 4

        # requests in another thread meanwhile: none fails, and they see each new file
        counts, failures, stop = [], [], threading.Event()

        def hammer():
            with TestClient(app) as other:
                while not stop.is_set():
                    answer = other.get(url, headers=headers, params={"limit": 1000})
                    if answer.status_code == 200:
                        counts.append(answer.json()["count"])
                    else:
                        failures.append((answer.status_code, answer.text[:200]))

        worker = threading.Thread(target=hammer)
        worker.start()
        for _ in range(4):
            time.sleep(0.3)
            _republish(lake, f"delete from {ON_TIME} where rowid = (select min(rowid) from {ON_TIME})")
        time.sleep(0.3)
        stop.set()
        worker.join()
        assert failures == [] and len(counts) > 10
        assert counts[-1] == rows - 8 and len(set(counts)) >= 3
    app.state.service.shared.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_m_service_starts_without_a_key_file_and_serves_open_data(refreshed, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "TN_LAKE_DIR": str(refreshed.root),
        "TN_SERVICE_PORT": str(port),
        "TN_SERVICE_KEYS": str(tmp_path / "no-keys-yet.json"),
        "TN_SERVICE_LEDGER_DIR": str(tmp_path / "ledger"),
    }
    env.pop("TN_SERVICE_CONSUMERS", None)  # the repository's service/consumers.yaml
    server = subprocess.Popen([sys.executable, "-m", "service"], cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        assert httpx.get(f"{base}/datasets/{OPEN_ON_TIME}/rows").status_code == 200
        assert httpx.get(f"{base}/datasets/{ON_TIME}/rows").status_code == 401
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"].startswith("Dịch vụ chia sẻ")
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    assert b"no key file" in log and b"GET /datasets" not in log  # no access log: query strings stay out of logs
    assert len(list(Path(tmp_path / "ledger").glob("*.jsonl"))) == 1

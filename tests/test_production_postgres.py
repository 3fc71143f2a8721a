"""The Dagster instance on PostgreSQL, for real: a PostgreSQL server started on loopback in a temp dir (Debian's
postgresql binaries, run as the `postgres` user when the tests run as root), then the README's run command with
only TN_DAGSTER_PG_URL added to the environment. Skips, saying why, where no PostgreSQL server binaries exist."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ingestion.lake import PROJECT_ROOT


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


PG_BIN = _pg_bin()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user the Debian package creates."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="module")
def postgres_url():
    if PG_BIN is None:
        pytest.skip(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin); install Debian's postgresql "
            "package (.ci/run does: apt-get install -y postgresql)"
        )
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
    work = Path(tempfile.mkdtemp(prefix="tn-pg-"))
    if os.geteuid() == 0:
        os.chown(work, server_user.pw_uid, server_user.pw_gid)
    data, port = work / "data", _free_port()
    subprocess.run(
        _as_server_user(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", "dagster", "--auth=trust", "-E", "UTF8", "--locale=C"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_server_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(work / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            _as_server_user([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "dagster", "dagster"]),
            check=True,
            capture_output=True,
        )
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; dagster-postgres ships psycopg2
        yield f"postgresql+psycopg2://dagster@127.0.0.1:{port}/dagster"
    finally:
        subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True
        )
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def refresh_on_postgres(postgres_url, tmp_path_factory):
    """The README's run command, with the instance switched to PostgreSQL by one environment variable."""
    root = tmp_path_factory.mktemp("pg")
    home = root / "dagster_home"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TN_LAKE_DIR": str(root / "lake"),
        "TN_DAGSTER_PG_URL": postgres_url,
    }
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.run_pipeline", "--scale", "tiny"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return run, home


def _query(url: str, sql: str) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url.replace("+psycopg2", "")) as con, con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_refresh_runs_with_the_postgres_instance(refresh_on_postgres, postgres_url):
    run, home = refresh_on_postgres
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    run_id = next(line.split()[1].rstrip(":") for line in run.stdout.splitlines() if line.startswith("run "))
    rows = _query(postgres_url, f"select pipeline_name, status from runs where run_id = '{run_id}'")
    assert rows == [("warehouse_refresh", "SUCCESS")]
    materialized = {
        key
        for (key,) in _query(
            postgres_url,
            "select distinct asset_key from event_logs where "
            f"run_id = '{run_id}' and dagster_event_type = "
            "'ASSET_MATERIALIZATION'",
        )
    }
    assert '["marts", "mart_dossier_on_time_by_agency_month"]' in materialized
    assert '["silver", "dossiers"]' in materialized
    checks = _query(postgres_url, f"select count(*) from asset_check_executions where run_id = '{run_id}'")
    assert checks[0][0] > 0


def test_nothing_is_stored_in_sqlite_when_postgres_is_configured(refresh_on_postgres):
    run, home = refresh_on_postgres
    assert run.returncode == 0
    assert "TN_DAGSTER_PG_URL" in (home / "dagster.yaml").read_text()
    assert not list(home.rglob("*.db")), sorted(str(p) for p in home.rglob("*.db"))

"""The run command's local key: made once for the project's own sample lake, never for a lake elsewhere."""

import os
import stat

from orchestration.run_pipeline import ensure_local_pseudonym_key
from sharing.pseudonym import KEY_VARIABLE, MIN_KEY_LENGTH


def test_local_key_is_made_once_and_reused(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(KEY_VARIABLE)
    monkeypatch.delenv("TN_LAKE_DIR", raising=False)  # the project's own lake/: the local sample
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    ensure_local_pseudonym_key()
    path = tmp_path / "dagster_home" / "pseudonym_key.local"
    first = path.read_text()
    assert os.environ[KEY_VARIABLE] == first and len(first) >= MIN_KEY_LENGTH
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "Production must set TN_PSEUDONYM_KEY" in capsys.readouterr().out
    monkeypatch.delenv(KEY_VARIABLE)
    ensure_local_pseudonym_key()
    assert os.environ[KEY_VARIABLE] == first  # same key: pseudonyms stable between local runs


def test_no_local_key_for_a_lake_elsewhere(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE)
    monkeypatch.setenv("TN_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    ensure_local_pseudonym_key()
    assert KEY_VARIABLE not in os.environ
    assert not (tmp_path / "dagster_home" / "pseudonym_key.local").exists()


def test_an_explicit_key_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, "x" * 40)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("TN_LAKE_DIR", raising=False)
    ensure_local_pseudonym_key()
    assert os.environ[KEY_VARIABLE] == "x" * 40 and not (tmp_path / "dagster_home").exists()

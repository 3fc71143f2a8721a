"""The TCVN3 and VNI maps in ingestion.encodings checked against published character charts kept as test data
(tests/fixtures/charts/*.tsv; each file's header cites its source), not against the project's own tables."""

import unicodedata
from pathlib import Path

import pytest

from ingestion import encodings

CHARTS = Path(__file__).parent / "fixtures" / "charts"


def _chart(name: str) -> list[tuple[bytes, str]]:
    rows = []
    for line in (CHARTS / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            hex_bytes, char = line.split("\t")[:2]
            rows.append((bytes.fromhex(hex_bytes), char))
    return rows


@pytest.mark.parametrize("chart, encoding", [("tcvn3.tsv", "tcvn3"), ("vni.tsv", "vni")])
def test_every_chart_entry_decodes_to_its_character(chart, encoding):
    rows = _chart(chart)
    wrong = [
        (data.hex(" "), char, encodings.decode(data, encoding))
        for data, char in rows
        if encodings.decode(data, encoding) != unicodedata.normalize("NFC", char)
    ]
    assert wrong == [], f"{encoding}: (bytes, chart, decoded) {wrong}"
    # All in one text too: a VNI mark byte must attach to its own base letter, not a neighbour's.
    text = b" ".join(data for data, _ in rows)
    assert encodings.decode(text, encoding) == " ".join(unicodedata.normalize("NFC", c) for _, c in rows)


@pytest.mark.parametrize("chart, encoding", [("tcvn3.tsv", "tcvn3"), ("vni.tsv", "vni")])
def test_encoding_a_chart_character_gives_the_charts_bytes(chart, encoding):
    wrong = [
        (char, data.hex(" "), encodings.encode(char, encoding).hex(" "))
        for data, char in _chart(chart)
        if encodings.encode(char, encoding) != data
    ]
    assert wrong == [], f"{encoding}: (char, chart, encoded) {wrong}"


def test_tcvn3_maps_nothing_outside_the_vn3_chart():
    # glibc's VN1 bytes for tone-marked capitals (e.g. 0x80 À, 0x01 Ú) are not TCVN3: they must stay unmapped.
    chart = {data.decode("latin-1") for data, char in _chart("tcvn3.tsv") if char != "\xa0"}
    assert set(encodings.TCVN3_TO_UNICODE) == chart

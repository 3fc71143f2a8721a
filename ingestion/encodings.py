"""Decode the text encodings Vietnamese departments still send, to NFC Unicode.

Python has codecs for UTF-8/16 and Windows-1258 but none for the two legacy 8-bit font encodings that
predate Unicode in Vietnamese offices: TCVN3 (ABC, one byte per precomposed lowercase letter) and VNI-Windows
(a base letter followed by a mark byte). Both are mapped here by hand from their published charts.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache

# --- TCVN3 (TCVN 5712:1993, "ABC" fonts such as .VnTime) ------------------------------------------------
# Each row: a Unicode letter family and the TCVN3 bytes of its forms, in the same order.
_TCVN3_ROWS = [
    ("àáảãạ", "\xb5\xb8\xb6\xb7\xb9"),
    ("ăằắẳẵặ", "\xa8\xbb\xbe\xbc\xbd\xc6"),
    ("âầấẩẫậ", "\xa9\xc7\xca\xc8\xc9\xcb"),
    ("đèéẻẽẹ", "\xae\xcc\xd0\xce\xcf\xd1"),
    ("êềếểễệ", "\xaa\xd2\xd5\xd3\xd4\xd6"),
    ("ìíỉĩị", "\xd7\xdd\xd8\xdc\xde"),
    ("òóỏõọ", "\xdf\xe3\xe1\xe2\xe4"),
    ("ôồốổỗộ", "\xab\xe5\xe8\xe6\xe7\xe9"),
    ("ơờớởỡợ", "\xac\xea\xed\xeb\xec\xee"),
    ("ùúủũụ", "\xef\xf3\xf1\xf2\xf4"),
    ("ưừứửữự", "\xad\xf5\xf8\xf6\xf7\xf9"),
    ("ỳýỷỹỵ", "\xfa\xfd\xfb\xfc\xfe"),
    ("ĂÂĐÊÔƠƯ", "\xa1\xa2\xa7\xa3\xa4\xa5\xa6"),
]
TCVN3_TO_UNICODE = {byte: char for chars, bytes_ in _TCVN3_ROWS for char, byte in zip(chars, bytes_)}
UNICODE_TO_TCVN3 = {char: byte for byte, char in TCVN3_TO_UNICODE.items()}
_TCVN3_DECODE = str.maketrans(TCVN3_TO_UNICODE)
_TCVN3_ENCODE = str.maketrans(UNICODE_TO_TCVN3)

# --- VNI-Windows -----------------------------------------------------------------------------------------
# A vowel is written as its base letter plus one mark byte; i/y/đ/ơ/ư have single-byte forms.
_VNI_TONES = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}  # on a, e, o, u, y, ơ, ư
_VNI_HAT_TONES = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}  # â ê ô
_VNI_BREVE_TONES = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}  # ă
_VNI_SINGLE = {"ì": "ì", "í": "í", "ỉ": "æ", "ĩ": "ó", "ị": "ò", "ỵ": "î", "đ": "ñ", "ơ": "ô", "ư": "ö"}


def _vni_pairs() -> dict[str, str]:
    """Unicode letter → VNI sequence, lowercase and uppercase."""
    table: dict[str, str] = dict(_VNI_SINGLE)
    for base, vni_base in [("a", "a"), ("e", "e"), ("o", "o"), ("u", "u"), ("y", "y"), ("ơ", "ô"), ("ư", "ö")]:
        for mark, vni_mark in _VNI_TONES.items():
            letter = unicodedata.normalize("NFC", base + mark)
            if letter not in table:
                table[letter] = vni_base + vni_mark
    for base in "aeo":
        for mark, vni_mark in _VNI_HAT_TONES.items():
            table[unicodedata.normalize("NFC", base + "\u0302" + mark)] = base + vni_mark
    for mark, vni_mark in _VNI_BREVE_TONES.items():
        table[unicodedata.normalize("NFC", "a\u0306" + mark)] = "a" + vni_mark
    upper = {k.upper(): v.upper() for k, v in table.items()}
    return {**table, **upper}


UNICODE_TO_VNI = _vni_pairs()
VNI_TO_UNICODE = {v: k for k, v in UNICODE_TO_VNI.items()}
_VNI_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(VNI_TO_UNICODE, key=len, reverse=True)))
_UNICODE_PATTERN = re.compile("|".join(re.escape(k) for k in UNICODE_TO_VNI))

LEGACY = ("tcvn3", "vni", "cp1258")
SAMPLE_BYTES = 1 << 20
# A declared legacy encoding is rejected when another reads this much more of a file's words as Vietnamese: a
# right reading scores about 1.0.
MISDECLARED_MARGIN = 0.2
READABLE_SCORE = 0.5  # below this share of Vietnamese words no reading is worth suggesting
# Letters that only appear in real Vietnamese; used to score a candidate decoding.
_VIETNAMESE = set("àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ")


class DecodeError(ValueError):
    """Bytes that do not decode in the declared encoding; the message says which and suggests what might."""


def _decode_strict(data: bytes, encoding: str) -> str:
    """Bytes → text in one named encoding; raises UnicodeDecodeError (never guesses, so `detect` may call it)."""
    if encoding in ("utf-8", "utf-8-sig"):
        return data.decode("utf-8-sig")
    if encoding == "utf-16":
        return data.decode("utf-16")  # the BOM says which byte order; Excel's "Unicode Text" has one
    if encoding == "cp1258":
        return data.decode("cp1258")
    if encoding == "tcvn3":
        return data.decode("latin-1").translate(_TCVN3_DECODE)
    if encoding == "vni":
        return _VNI_PATTERN.sub(lambda m: VNI_TO_UNICODE[m.group(0)], data.decode("cp1252", errors="strict"))
    return codecs.decode(data, encoding)


def decode(data: bytes, encoding: str) -> str:
    """Bytes → NFC text. `encoding` is one of the catalog's encodings (see ingestion.catalog.ENCODINGS)."""
    if encoding == "auto":
        encoding = detect(data)
    try:
        text = _decode_strict(data, encoding)
    except UnicodeDecodeError as exc:
        byte = data[exc.start : exc.start + 1].hex().upper()
        raise DecodeError(
            f"byte 0x{byte} at offset {exc.start:,} is not a character in {encoding} ({exc.reason}); "
            f"{describe_best(data)}"
        ) from exc
    return unicodedata.normalize("NFC", text.lstrip("\ufeff"))


def encode(text: str, encoding: str) -> bytes:
    """NFC text → bytes; the inverse of `decode`, used by the sample generator and fixtures."""
    text = unicodedata.normalize("NFC", text)
    if encoding == "tcvn3":
        mapped = text.translate(_TCVN3_ENCODE)
        return mapped.encode("latin-1")  # raises on letters TCVN3 cannot write (e.g. capitals with tone marks)
    if encoding == "vni":
        return _UNICODE_PATTERN.sub(lambda m: UNICODE_TO_VNI[m.group(0)], text).encode("cp1252")
    if encoding == "cp1258":
        # Windows-1258 has few precomposed letters: write base letter + combining tone mark, as Windows does.
        return _cp1258_compose(text).encode("cp1258")
    if encoding == "utf-16":
        return text.encode("utf-16")  # little-endian with BOM, like Excel
    return text.encode(encoding)


@lru_cache
def _cp1258_table() -> dict[int, str]:
    table = {}
    for char in _VIETNAMESE | {c.upper() for c in _VIETNAMESE}:
        try:
            char.encode("cp1258")
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", char)
            # keep the letter's shape marks (hat, breve, horn) precomposed where cp1258 has them
            tone = "".join(c for c in nfd if c in _TONE_MARKS)
            base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS))
            table[ord(char)] = base + tone
    return table


def _cp1258_compose(text: str) -> str:
    return text.translate(_cp1258_table())


_TONE_MARKS = set("\u0300\u0301\u0303\u0309\u0323")
_WORD = re.compile(r"\w+")
# In syllables opening with a, e, â, ê, ô or ơ the tone sits on that vowel (áo, béo, ấu, ối, ời), never on the next
# one: "aó" or "eứ" is how VNI's letter + mark bytes read in TCVN3.
_TONE_AFTER_FIRST_VOWEL = re.compile(
    "[aeâêôơ][" + "".join(c for c in _VIETNAMESE if set(unicodedata.normalize("NFD", c)) & _TONE_MARKS) + "]"
)


def _plausible(word: str) -> bool:
    """A Vietnamese syllable: only Vietnamese letters, at most one tone mark, capital only in front."""
    if any(ord(c) > 127 and c.lower() not in _VIETNAMESE for c in word):
        return False
    if any(c.isupper() and ord(c) > 127 for c in word[1:]) and not word.isupper():
        return False
    if _TONE_AFTER_FIRST_VOWEL.search(word.lower()):
        return False
    return sum(c in _TONE_MARKS for c in unicodedata.normalize("NFD", word)) <= 1


def _score(text: str) -> float:
    """Share of words with non-ASCII letters that read as Vietnamese syllables; mojibake scores low."""
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    if not words:
        return 1.0
    return sum(map(_plausible, words)) / len(words)


def legacy_scores(data: bytes) -> dict[str, float]:
    """How Vietnamese each legacy encoding's reading of the first MiB looks (0..1); encodings that cannot decode
    the bytes at all are left out."""
    sample = data[:SAMPLE_BYTES]
    scores = {}
    for candidate in LEGACY:
        try:
            scores[candidate] = _score(_decode_strict(sample, candidate))
        except UnicodeDecodeError:
            continue
    return scores


def describe_best(data: bytes) -> str:
    """For a person: which encoding the bytes read best in, and how well."""
    if looks_binary(data):
        return "the file does not look like text (control bytes), perhaps a binary file or the wrong file"
    found = detect(data)
    if found in ("utf-8", "utf-8-sig", "utf-16"):
        return f"the bytes read as {found}"
    score = legacy_scores(data).get(found, 0.0)
    if score < READABLE_SCORE:
        return f"no encoding reads it as Vietnamese (best {found}: {score:.0%} of the words with accents)"
    return f"the bytes read best as {found} ({score:.0%} of the words with accents are Vietnamese)"


CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def looks_binary(data: bytes) -> bool:
    """Control bytes other than tab and line ends in more than 1% of the first MiB: not a text export."""
    sample = data[:SAMPLE_BYTES]
    if not sample or sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))  # one pass, not one per control byte
    return controls > len(sample) / 100


def detect(data: bytes) -> str:
    """Best guess of a file's encoding: BOMs first, then strict UTF-8, then the legacy encoding whose decoding
    looks most like Vietnamese. Total: every byte string gets an answer (tcvn3 maps every byte)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:SAMPLE_BYTES]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # a multi-byte letter cut by the sample's end
            return "utf-8"
    scores = legacy_scores(sample)
    return max(scores, key=scores.get) if scores else "cp1258"


def misdeclared(data: bytes, declared: str) -> str | None:
    """Why `declared` (a legacy encoding) is the wrong one for `data`, when another reads much better; else None."""
    if declared not in LEGACY:
        return None
    scores = legacy_scores(data)
    if declared not in scores:
        return None  # its bytes do not decode at all: `decode` says where
    best, mine = max(scores, key=scores.get), scores[declared]
    if best == declared or scores[best] - mine < MISDECLARED_MARGIN:
        return None
    return (
        f"declared encoding {declared} reads {mine:.0%} of the words with accents as Vietnamese, {best} reads "
        f"{scores[best]:.0%}: the file is probably {best}; fix the contract's encoding or ask the department"
    )

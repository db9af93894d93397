"""The text encoding of a CSV: declared in the source, or detected.

Chinese government systems export UTF-8, UTF-8 with a byte order mark, GBK or GB18030 (a
superset of GBK, so GBK files are read as GB18030). Detection reads the start of the file: a BOM
means UTF-8 with BOM; text valid as UTF-8 is UTF-8; else charset-normalizer must agree that it
is Chinese text in GB18030/GBK (so a Latin-1 file is not read as Chinese gibberish).
"""

from __future__ import annotations

import codecs
from pathlib import Path

from yishu.errors import UserInputError

SAMPLE = 1 << 20  # bytes read to decide
JUDGED = 200_000  # bytes charset-normalizer judges (it is slow on more)
_CHINESE = {"gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp950", "cp936"}


def detect(head: bytes, where: str) -> str:
    """The Python codec of text starting with `head`."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(head, "utf-8"):
        return "utf-8"
    if _decodes(head, "gb18030"):
        from charset_normalizer import from_bytes

        best = from_bytes(_whole_characters(head[:JUDGED], "gb18030"),
                          cp_isolation=["gb18030", "utf_8", "cp1252", "latin_1"]).best()
        if best is not None and best.encoding.replace("_", "") in _CHINESE:
            return "gb18030"
    raise UserInputError(f"{where}: the encoding is not UTF-8, GBK or GB18030: re-export the "
                         "file as UTF-8 or declare `encoding:` in the source")


def detect_file(path: Path, declared: str | None = None) -> str:
    """The declared encoding, or the one detected from the file's first megabyte."""
    if declared:
        return "utf-8-sig" if codecs.lookup(declared).name == "utf-8" else declared
    with open(path, "rb") as fh:
        return detect(fh.read(SAMPLE), str(path))


def _decodes(head: bytes, codec: str) -> bool:
    """`head` decodes (a character cut at the end of the sample is allowed)."""
    try:
        codecs.getincrementaldecoder(codec)().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _whole_characters(sample: bytes, codec: str) -> bytes:
    """`sample` without a character cut at its end: charset-normalizer rejects a codec whose
    decoding fails at the last byte, so a valid GB18030 file whose sample ended inside a
    two-byte character was refused."""
    decoder = codecs.getincrementaldecoder(codec)()
    decoder.decode(sample, final=False)
    pending = decoder.getstate()[0]
    return sample[:len(sample) - len(pending)]

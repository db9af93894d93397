"""How people write the digits of an identifier, shared by the resident ID, phone and bank card
recognizers (hence by TextScanner, the drift scan and the residual scan): full-width digits
(１３８１２３４５６７８), one separator between any two digits (442328 19620617 6137,
138.1234.5678, 138—1234—5678, 6222/0212/...), and `+86`/`0086` before a mobile number.

`digits(n)` is a regex for n such digits; `plain()` turns a match back into the ASCII digits the
validators (standard.identifiers) check. The boundaries keep a match out of longer runs of
digits and letters and out of amounts (1.110101...), but a separator may stand next to a match:
two phones written 138-1234-5678/139-8765-4321 are both found.
"""

from __future__ import annotations

import re

DIGIT = "[0-9０-９]"
# space, ASCII/full-width hyphen, en/em dash, minus, dot, full-width dot, slash, full-width slash
SEPARATORS = " \u00a0\u3000\\-－‐‑‒–—―−.．/／"
SEP = f"[{SEPARATORS}]"
LEFT = f"(?<![0-9０-９A-Za-zＡ-Ｚａ-ｚ])(?<!{DIGIT}[.,．，])"
RIGHT = f"(?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])(?![.．]{DIGIT})"
# +86, 0086, 86 (and their full-width forms) before a mobile number, then an optional separator
COUNTRY = f"(?:(?:[+＋]|00|００)?(?:86|８６){SEP}?)"

_TO_ASCII = str.maketrans("０１２３４５６７８９ＸｘＸｘ＋", "0123456789XxXx+")
_DROP = re.compile(SEP)


def digits(n: int, last: str = DIGIT) -> str:
    """n digits, one optional separator between two of them; `last`: the class of the last
    character (a resident ID may end with X)."""
    return f"{DIGIT}(?:{SEP}?{DIGIT}){{{n - 2}}}{SEP}?{last}"


def plain(text: str) -> str:
    """The ASCII characters of a match, separators dropped: '４４２３２８ 1962-0617' ->
    '4423281962 0617' -> '44232819620617'."""
    return _DROP.sub("", text.translate(_TO_ASCII))


def national_mobile(text: str) -> str:
    """A mobile number without its country prefix: '+86 138 1234 5678' -> '13812345678'."""
    number = plain(text).lstrip("+")
    for prefix in ("0086", "86"):
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            return number[len(prefix):]
    return number

"""Reasons shown to stewards never quote raw values.

A reason goes into the catalog database, the quarantine record, `yishu quarantine ls` and the
steward report (HTML and JSON), all read by people who may not see personal data. Arrow quotes
the offending row of a malformed CSV (names, resident IDs, phones...): the row text is replaced
by its row number, and any other digit run as long as an identifier is masked.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

_QUOTED_ROW = re.compile(r"(Expected \d+ columns?, got \d+)\s*:.*?(\)?: fix the file)", re.S)
_QUOTED_ROW_END = re.compile(r"(Expected \d+ columns?, got \d+)\s*:.*", re.S)
# 11+ digits (a phone, resident ID or card number, maybe ending in X) not part of a word or
# hash; shorter runs are counts (failed on 40 of 1000000 rows) and stay readable
_DIGITS = re.compile(r"(?<![0-9A-Za-z_])(\d{3})\d{8,}[\dXx]?(?![0-9A-Za-z_])")


def without_raw_values(reason: str | None, row: int | None = None) -> str | None:
    """`reason` with any quoted row replaced by its row number and identifiers masked."""
    if not reason:
        return reason
    where = f" at data row {row}" if row else ""
    withheld = rf"\1{where} (row text withheld: it may hold personal data)"
    reason = _QUOTED_ROW.sub(withheld + r"\2", reason)
    reason = _QUOTED_ROW_END.sub(withheld, reason)
    return _DIGITS.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 3), reason)


def first_bad_row(path: str | Path, encoding: str) -> int | None:
    """The 1-based data row (header excluded) whose field count differs from the header's,
    for a malformed CSV: what a steward opens the file at. None if it cannot be found."""
    try:
        text = Path(path).read_bytes().decode(encoding, errors="replace").removeprefix("\ufeff")
        rows = csv.reader(io.StringIO(text))
        width = len(next(rows))
        for number, fields in enumerate(rows, start=1):
            if fields and len(fields) != width:
                return number
    except (OSError, csv.Error, StopIteration, LookupError):
        return None
    return None

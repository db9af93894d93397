"""What the name model reads of a text: identifiers the patterns already found are shortened
to their first few characters.

The model's cost is per character (a BiGRU over every one), and a hotline or clinic note is a
third digits (电话13812345678，身份证110101199003071234). No name is inside an identifier, and
the model only needs to see that a number stands there, so each span of at least MIN_LENGTH
characters without a CJK character is cut to its first KEEP; the names found are mapped back
to the text's own positions.
"""

from __future__ import annotations

import re

KEEP = 4
MIN_LENGTH = 8
_CJK = re.compile(r"[\u3400-\u9fff]")


def shortened(text: str, spans) -> tuple[str, list[int] | None]:
    """The text the model reads, and for each of its positions (and its end) the position in
    `text`; None when nothing was cut. `spans` are (start, end) of the identifiers found."""
    cut = sorted((s, e) for s, e in spans if e - s >= MIN_LENGTH and not _CJK.search(text, s, e))
    if not cut:
        return text, None
    parts, where, pos = [], [], 0
    for start, end in cut:
        if start < pos:  # overlaps the previous cut: take what is left of it
            start = pos
            if end - start < MIN_LENGTH:
                continue
        parts.append(text[pos:start + KEEP])
        where.extend(range(pos, start + KEEP))
        pos = end
    parts.append(text[pos:])
    where.extend(range(pos, len(text) + 1))
    return "".join(parts), where


def mapped(where: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """A span of the shortened text in the text's own positions."""
    if where is None:
        return start, end
    return where[start], where[end - 1] + 1

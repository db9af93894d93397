"""Rules on the person names found, shared by TextScanner and Presidio's analyzer
(`build_analyzer`): overlapping names are one name, and a name's alias in brackets is the
same person's.
"""

from __future__ import annotations

import re

# A name's alias in brackets right after it (阿特金森（martinatkinson）, StephenBird（中文名：
# 卓曦文）, 舒安尼（lasseschone，中场，丹麦）) or a name in brackets right after its alias
# (JerryMa(马磊)): the same person. A Latin alias may be followed by more notes; a bracketed
# note about the name (化名, 音) is no alias.
_ALIAS_AFTER = re.compile(r"\s*[（(](?:中文名|英文名|原名|本名|又名|外文名)?[:：]?\s*(?:"
                          r"([A-Za-z][A-Za-z0-9_ .'’·-]{0,39}[A-Za-z0-9.])\s*(?=[，,；;）)]|$)"
                          r"|(?!化名|音译|音|下同)([\u4e00-\u9fff·]{2,8})\s*[）)])")
_COURTESY = ("先生", "女士", "小姐")
_ALIAS_BEFORE = re.compile(r"([A-Za-z][A-Za-z.'·-]{1,40})\s*[（(]\s*$")


def aliases(text: str, names: list[tuple[int, int]], taken: list[tuple[int, int]]
            ) -> list[tuple[int, int]]:
    """(start, end) of the bracketed aliases of the names, not overlapping any taken span."""
    extra = []
    for start, end in names:
        after = _ALIAS_AFTER.match(text, end)
        # 张女士（私企老板）: a person named by a title has no Chinese alias, the note says more
        if after and not (after.group(2) and text.endswith(_COURTESY, start, end)):
            extra.append(after.span(1) if after.group(1) else after.span(2))
        before = _ALIAS_BEFORE.search(text, max(0, start - 45), start)
        if before and text[end:end + 1] in ")）":
            extra.append(before.span(1))
    return [e for e in extra if not any(e[0] < s_end and s_start < e[1]
                                        for s_start, s_end in taken)]


def union_of_overlaps(spans: list[tuple[int, int]]) -> list[list[int]]:
    """[start, end, i, j...] of overlapping spans merged (the model's 吴冠中 and the context
    recognizer's 吴冠 are one name: redacting the shorter would leave a character of it), each
    with the indexes of the spans it is made of, in text order."""
    merged: list[list[int]] = []
    for i in sorted(range(len(spans)), key=lambda k: spans[k]):
        start, end = spans[i]
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1].append(i)
        else:
            merged.append([start, end, i])
    return merged

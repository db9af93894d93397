"""Recall and precision against what the generator planted: the patients' names, resident IDs
and phones in the structured columns, and in doctor_note every value a note template filled
in (patient, doctor, family member)."""

from __future__ import annotations

import re

STRONG_COLUMNS = ("patient_resident_id", "patient_phone")
NAME_COLUMNS = ("patient_name",)
# note-template fields that are personal data; the strong ones and the names count for recall,
# all of them for precision (联系人：王先生's 王 is too short to test for presence)
NOTE_STRONG = ("id", "phone", "phone_dashed", "family_phone", "family_phone_spaced")
NOTE_NAMES = ("name", "doctor", "family")
NOTE_PII = NOTE_STRONG + NOTE_NAMES + ("family_surname",)
_FIELD_RES = {
    "id": r"[0-9]{17}[0-9Xx]|[0-9]{15}", "phone": r"1[0-9]{10}", "family_phone": r"1[0-9]{10}",
    "phone_dashed": r"[0-9]{3}-[0-9]{4}-[0-9]{4}",
    "family_phone_spaced": r"[0-9]{3} [0-9]{4} [0-9]{4}",
    "name": r"[\u4e00-\u9fff·]{2,5}?", "doctor": r"[\u4e00-\u9fff·]{2,5}?",
    "family": r"[\u4e00-\u9fff·]{2,5}?", "family_surname": r"[\u4e00-\u9fff]",
    "gender": "[男女]", "age": r"-?[0-9]+", "title": "先生|女士",
}
PLACEHOLDER = re.compile(r"<[^<>\s]{1,24}>")


# ----------------------------------------------------------------------------- quality


def _note_patterns() -> list[re.Pattern]:
    """One regex per note template of the generator, a named group per filled-in field."""
    from yishu.samples import NOTE_TEMPLATES

    patterns = []
    for _, parts in NOTE_TEMPLATES:
        body = "".join(
            f"(?P<{p[1:-1]}>{_FIELD_RES.get(p[1:-1], '.+?')})" if p.startswith("{")
            else re.escape(p) for p in parts)
        patterns.append(re.compile(body))
    return patterns


def _planted_in_note(note: str, patterns) -> dict[str, tuple[int, int]] | None:
    """{field: (start, end)} of the personal data a template put in this note."""
    for pattern in patterns:
        m = pattern.fullmatch(note)
        if m:
            return {f: m.span(f) for f in NOTE_PII if f in m.groupdict()}
    return None


def redacted_spans(src: str, out: str) -> list[tuple[int, int]]:
    """Where the input text was replaced: the literal text between the output's placeholders
    is found again in the input, and the gaps are the replaced spans. A cell replaced whole
    (presidio-structured) is one span."""
    if src == out:
        return []
    pieces = PLACEHOLDER.split(out)
    if len(pieces) > 1 and src.startswith(pieces[0]) and src.endswith(pieces[-1]):
        spans, pos = [], len(pieces[0])
        for piece in pieces[1:-1]:
            at = src.find(piece, pos + 1)  # a replaced span has at least one character
            if at < 0:
                break
            spans.append((pos, at))
            pos = at + len(piece)
        else:
            end = len(src) - len(pieces[-1])
            if end > pos:
                return spans + [(pos, end)]
    import difflib

    ops = difflib.SequenceMatcher(None, src, out, autojunk=False).get_opcodes()
    return [(i1, max(i2, i1 + 1)) for op, i1, i2, _, _ in ops if op != "equal"] or [(0, len(src))]


def quality(src, out, columns: list[str]) -> dict:
    """Recall and precision of one engine's output against the planted values (rows align)."""
    src = src.slice(0, out.num_rows)
    if "doctor_note" in columns:
        return _note_quality(src.column("doctor_note").to_pylist(),
                             out.column("doctor_note").to_pylist()
                             if "doctor_note" in out.column_names else [None] * out.num_rows)
    pii = set(STRONG_COLUMNS + NAME_COLUMNS)
    inputs = {c: src.column(c).to_pylist() for c in columns}
    outputs = {c: (out.column(c).cast("string").to_pylist() if c in out.column_names
                   else [None] * out.num_rows) for c in columns}
    # [hits, total]: [gone from the output, planted]; [changed cells that held PII, changed]
    strong, names, changed = [0, 0], [0, 0], [0, 0]
    for i in range(out.num_rows):
        row_out = "\x1f".join(str(outputs[c][i]) for c in columns)
        for c in columns:
            value = inputs[c][i]
            if value is None:
                continue
            if c in pii:
                tally = strong if c in STRONG_COLUMNS else names
                tally[0] += value not in row_out
                tally[1] += 1
            if outputs[c][i] != value:
                changed[0] += c in pii
                changed[1] += 1
    return {"strong_recall": _share(strong), "name_recall": _share(names),
            "precision": _share(changed), "planted": strong[1] + names[1], "unparsed": 0}


def _note_quality(notes: list, outs: list) -> dict:
    patterns = _note_patterns()
    strong, names, spans = [0, 0], [0, 0], [0, 0]  # [hits, total], as in quality()
    unparsed = 0
    for note, out in zip(notes, outs, strict=True):
        if not note:
            continue
        planted = _planted_in_note(note, patterns)
        if planted is None:
            unparsed += 1
            planted = {}
        out = out or ""
        for field, (a, b) in planted.items():
            tally = strong if field in NOTE_STRONG else names if field in NOTE_NAMES else None
            if tally is not None:
                tally[0] += note[a:b] not in out
                tally[1] += 1
        for a, b in redacted_spans(note, out):
            spans[0] += any(a < pe and ps < b for ps, pe in planted.values())
            spans[1] += 1
    return {"strong_recall": _share(strong), "name_recall": _share(names),
            "precision": _share(spans), "planted": strong[1] + names[1], "unparsed": unparsed}


def _share(pair) -> float | None:
    """[hits, total] -> hits / total."""
    return pair[0] / pair[1] if pair[1] else None

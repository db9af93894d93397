"""Name benchmark: person-name recall and other entities kept on labelled real sentences, per
corpus, plus sentences/s; optionally rows/s of auto-mode de-identification.

    python -m yishu.bench.names                  # every corpus in ../shared/data/ner/
    python -m yishu.bench.names --limit 2000 --missed 20 --by-type
    python -m yishu.bench.names --rows 50000     # also time deidentify --auto (free text and
                                                 # structured-only)
    make bench-names ARGS="--limit 2000"

The corpora (CLUENER2020, Resume NER; see their README) are read where they are, beside the
repository (`../shared/data/ner/`), never copied into it. A name counts as found when every one
of its characters (letters and digits: quotes and brackets some labels take in are left out) is
inside a redacted span (of any entity: that is what de-identification
does); another entity (organisation, place, title...) counts as kept when none of its characters
is. Sentences/s: the whole TextScanner (every recognizer) over the distinct sentences, one
process, models batched.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# file -> the label of person names in it
CORPORA = {
    "cluener_train.jsonl": "name",
    "resume_train.jsonl": "NAME",
    "resume_dev.jsonl": "NAME",
}
TARGET = 0.95


def data_dir() -> Path:
    from yishu.settings import REPO_ROOT

    return REPO_ROOT.parent / "shared" / "data" / "ner"


def load(path: Path, limit: int | None = None) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """[(text, [(begin, end, type)])] from the unified JSON-lines format."""
    sentences = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            spans = [(e["entity_index"]["begin"], e["entity_index"]["end"], e["entity_type"])
                     for e in row.get("entity_list", [])]
            sentences.append((row["text"], spans))
            if limit and len(sentences) >= limit:
                break
    return sentences


def score(sentences, found, name_label: str) -> dict:
    """Recall of names and share of other entities kept; `found` holds each text's spans."""
    names = hit = others = kept = 0
    missed: list[str] = []
    removed: list[str] = []
    by_type: dict[str, list[int]] = {}
    for (text, gold), spans in zip(sentences, found, strict=True):
        covered = set()
        for s in spans:
            covered.update(range(s.start, s.end))
        for begin, end, label in gold:
            # the letters and digits of the entity: some labels take in quotes or brackets
            chars = {i for i in range(begin, end) if text[i].isalnum()} or set(range(begin, end))
            if label == name_label:
                names += 1
                if chars <= covered:
                    hit += 1
                else:
                    missed.append(f"{text[begin:end]} | {text}")
            else:
                others += 1
                untouched = not (chars & covered)
                kept += untouched
                counts = by_type.setdefault(label, [0, 0])
                counts[0] += 1
                counts[1] += untouched
                if not untouched:
                    removed.append(f"{label}:{text[begin:end]} | {text}")
    return {"sentences": len(sentences), "names": names, "found": hit, "others": others,
            "kept": kept, "by_type": by_type, "missed": missed, "removed": removed}


def make_scanner(which: str):
    from yishu.deid.recognizers import all_recognizers
    from yishu.deid.text_scanner import TextScanner

    drop = {"context": {"CnLacPersonRecognizer"}, "model": {"CnPersonRecognizer"},
            "all": set()}[which]
    return TextScanner(recognizers=[r for r in all_recognizers() if r.name not in drop])


def run_corpus(scanner, path: Path, label: str, limit: int | None) -> dict:
    from yishu.deid.recognizers import cn_lac_person_recognizer

    sentences = load(path, limit)
    cn_lac_person_recognizer.clear_cache()  # time the model, not the cache of an earlier run
    started = time.perf_counter()
    found = scanner.find_many([text for text, _ in sentences])
    seconds = time.perf_counter() - started
    result = score(sentences, found, label)
    result["per_s"] = len(sentences) / seconds if seconds else 0.0
    return result


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def print_corpus(name: str, r: dict, args) -> bool:
    recall = r["found"] / r["names"] if r["names"] else 1.0
    kept = r["kept"] / r["others"] if r["others"] else 1.0
    ok = recall >= TARGET and kept >= TARGET
    print(f"{name:<22} {r['sentences']:>8,} {r['names']:>7,} {_pct(r['found'], r['names']):>8} "
          f"{r['others']:>8,} {_pct(r['kept'], r['others']):>8} {r['per_s']:>10,.0f}  "
          f"{'ok' if ok else 'below target'}")
    if args.by_type:
        for label, (n, k) in sorted(r["by_type"].items(), key=lambda x: -x[1][0]):
            print(f"    kept {label:<14} {n:>7,} {_pct(k, n):>8}")
    rnd = random.Random(1)
    for kind in ("missed", "removed"):
        rows = r[kind]
        for row in rnd.sample(rows, min(args.missed, len(rows))):
            print(f"    {kind}: {row}")
    return ok


# ----------------------------------------------------------------------------- throughput


def _spliced_texts(rows: int, folder: Path, seed: int = 3) -> list[str]:
    """Distinct texts of 20-80 characters made of clauses of the corpora's sentences (real text,
    cut at commas and spliced at random): a free-text column where every row is different."""
    import re

    clauses = []
    for file in CORPORA:
        if (folder / file).exists():
            for text, _ in load(folder / file):
                clauses += [c for c in re.split(r"(?<=[，。；！？])", text) if c]
    rnd = random.Random(seed)
    texts: set[str] = set()
    while len(texts) < rows:
        text = ""
        while len(text) < 20:
            text += rnd.choice(clauses)
        texts.add(text[:80])
    return sorted(texts, key=lambda _: rnd.random())


def run_throughput(rows: int, folder: Path, workers: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from yishu.bench.engines import _measure
    from yishu.bench.run import STRUCTURED, _generate

    with tempfile.TemporaryDirectory(prefix="yishu-bench-names-") as tmp:
        tmp = Path(tmp)
        texts = _spliced_texts(rows, folder)
        free = tmp / "free_text.parquet"
        pq.write_table(pa.table({"ticket_id": [f"GD{i:09d}" for i in range(rows)],
                                 "content": texts}), free)
        structured = tmp / "structured.parquet"
        _generate(structured, rows, STRUCTURED)
        for name, src in (("free text (ticket_id, content)", free),
                          (f"structured ({', '.join(STRUCTURED)})", structured)):
            r = _measure(["yishu", str(src), str(tmp / "out.parquet"), "--workers",
                          str(workers)])
            print(f"deidentify --auto, {name}: {r['rows']:,} rows in {r['wall_s']:.1f} s → "
                  f"{r['rows'] / r['wall_s']:,.0f} rows/s wall (classify {r['classify_s']:.1f} s),"
                  f" {r['steady_rows_per_s']:,.0f} rows/s steady; {r['cpu_s']:.1f} CPU-s "
                  f"({r['rows'] / r['cpu_s']:,.0f} rows per CPU-second); peak RSS "
                  f"{r['peak_rss_mb']:,.0f} MB; plan {r['plan']}; entities {r['entities']}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m yishu.bench.names",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="folder of the labelled corpora (default ../shared/data/ner/)")
    parser.add_argument("--limit", type=int, default=None, help="first N sentences per corpus")
    parser.add_argument("--recognizers", choices=["all", "context", "model"], default="all",
                        help="all; context: without the name model; model: without the "
                             "surname/context recognizer")
    parser.add_argument("--by-type", action="store_true", help="share kept per entity type")
    parser.add_argument("--missed", type=int, default=0,
                        help="show N missed names and N removed other entities per corpus")
    parser.add_argument("--rows", type=int, default=0,
                        help="also time deidentify --auto on this many rows (free text, "
                             "structured-only)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    from yishu.bench.machine import machine

    folder = args.data or data_dir()
    print(f"$ python -m yishu.bench.names {' '.join(argv)}".rstrip())
    print(f"machine: {machine()}")
    present = [f for f in CORPORA if (folder / f).exists()]
    if not present:
        print(f"no labelled corpora in {folder}: expected {', '.join(CORPORA)} (see the "
              "README there); nothing measured", file=sys.stderr)
        return 2
    scanner = make_scanner(args.recognizers)
    started = time.perf_counter()
    scanner.find_many(["预热：张三于今日来电。"])  # loads the model: not part of the timing
    print(f"recognizers: {args.recognizers}; model loaded in "
          f"{time.perf_counter() - started:.1f} s")
    print(f"{'corpus':<22} {'sentences':>8} {'names':>7} {'recall':>8} {'others':>8} "
          f"{'kept':>8} {'sentences/s':>10}")
    ok = True
    totals = Counter()
    for file in present:
        r = run_corpus(scanner, folder / file, CORPORA[file], args.limit)
        ok &= print_corpus(file.removesuffix(".jsonl"), r, args)
        totals.update({k: r[k] for k in ("sentences", "names", "found", "others", "kept")})
        totals["seconds"] += r["sentences"] / r["per_s"] if r["per_s"] else 0
    print(f"{'all':<22} {totals['sentences']:>8,} {totals['names']:>7,} "
          f"{_pct(totals['found'], totals['names']):>8} {totals['others']:>8,} "
          f"{_pct(totals['kept'], totals['others']):>8} "
          f"{totals['sentences'] / totals['seconds'] if totals['seconds'] else 0:>10,.0f}")
    print(f"target per corpus: name recall ≥ {TARGET:.0%} and other entities kept ≥ {TARGET:.0%};"
          " sentences/s on one process")
    missing = [f for f in CORPORA if f not in present]
    if missing:
        print(f"missing in {folder}: {', '.join(missing)}")
    if args.rows:
        run_throughput(args.rows, folder, args.workers)
    return 0 if ok else 1


if __name__ == "__main__":  # importing this module (e.g. a module scan) must not run it
    sys.exit(main())

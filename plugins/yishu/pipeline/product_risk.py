"""The risk check of a product run, over the de-identified file without reading it whole: the
residual scan a batch at a time, each distinct value of a column scanned once (deid/scan.py);
k-anonymity from the quasi-identifier, subject and sensitive columns alone (Arrow group-bys,
deid/risk.py); the suppressed rows left out as the file is copied again a batch at a time. An
aggregate product reads only its group-by and measure columns (its output is one row per cell).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yishu.deid import risk
from yishu.deid.aggregate import aggregate
from yishu.deid.recognizers import STRONG_IDENTIFIERS
from yishu.deid.scan import NAME_CONTEXT, TableScan, identifies_a_person
from yishu.pipeline.row_groups import RowGroupWriter, batches


def residual(cat, product, path: str | Path) -> tuple[dict, dict]:
    """Strong identifiers anywhere in the output, and names too in every column made of a
    personal element (one with a `pii_entity`), whatever its operator. A name in a column the
    product keeps with a `keep_reason` is declared, not residual; strong identifiers never are.
    Returns (residual findings, declared findings), per column."""
    names_in_file = pq.read_schema(path).names
    personal = {name: cat.product_element(product, col.source_column)
                for name, col in product.columns.items() if name in names_in_file}
    personal = {name: e for name, e in personal.items() if e.pii_entity}
    # a bare value (张伟) is read as a name only after a context word: given to name columns
    name_columns = [n for n, e in personal.items() if e.pii_entity == "PERSON"]
    strong = TableScan(entities=set(STRONG_IDENTIFIERS), keep=identifies_a_person)
    others = TableScan([n for n in personal if n not in name_columns], entities={"PERSON"})
    named = TableScan(name_columns, entities={"PERSON"}, context=NAME_CONTEXT)
    for batch in batches(path):
        for scan in (strong, others, named):
            scan.add(batch)
    again = lambda: batches(path)  # noqa: E731 (the rows again, for the first samples)
    found = strong.findings(again)
    declared = {}
    for column, finding in {**others.findings(again), **named.findings(again)}.items():
        if product.columns[column].keep_reason and personal[column].pii_entity == "PERSON":
            declared[column] = {**finding, "keep_reason": product.columns[column].keep_reason}
            continue
        known = found.setdefault(column, {**finding, "entities": {}})
        known["entities"] = {**known["entities"], **finding["entities"]}
    return found, declared


def aggregated(product, path: str | Path, out: str | Path) -> tuple[int, dict]:
    """An aggregate product's cells from the columns they need; its rows and summary."""
    spec = product.aggregate
    wanted = [*spec["group_by"], *(m["column"] for m in spec["measures"].values()
                                   if m.get("column")), *([product.subject_key]
                                                          if product.subject_key else [])]
    table = pq.read_table(path, columns=list(dict.fromkeys(wanted)))
    kept, summary = aggregate(table, spec, product.subject_key)
    pq.write_table(kept, out)
    return kept.num_rows, summary


def k_anonymous(product, zone, path: str | Path) -> tuple[object, risk.RiskResult]:
    """The rows to keep (a mask, None: all) and the verdict, from the risk columns alone."""
    sensitive = product.sensitive_attribute
    qis = list(product.quasi_identifiers)
    # a subject key that is no quasi-identifier or sensitive column is read as hashes only
    subject = product.subject_key if product.subject_key not in (*qis, sensitive) else None
    columns = risk.risk_columns(qis, sensitive, product.subject_key if not subject else None)
    schema = pq.read_schema(path)
    text = [c for c in columns if pa.types.is_string(schema.field(c).type)
            or pa.types.is_large_string(schema.field(c).type)]
    # the check needs each row's class and subject, never their text: quasi-identifiers come
    # as dictionaries, subjects as 64-bit hashes read a batch at a time (10M pseudonyms as text
    # and their joins took 2.8 GB)
    table = pq.read_table(path, columns=columns, read_dictionary=text)
    if subject:
        hashes = [risk.subject_hashes(b.column(0)) for b in batches(path, [subject], 1 << 16)]
        table = table.append_column(subject, pa.array(
            np.concatenate(hashes) if hashes else np.zeros(0, np.uint64), pa.uint64()))
    return risk.k_anonymity(table, qis, zone.k, zone.max_suppression, sensitive=sensitive,
                            l_required=zone.l if sensitive else None,
                            subject=product.subject_key)


def suppress(path: str | Path, keep, out: str | Path) -> int:
    """The file again without the rows `keep` leaves out, a batch at a time; the rows kept.
    With nothing to leave out it is copied (its row groups are already the published ones)."""
    if keep is None or pc.all(keep).as_py():
        shutil.copyfile(path, out)
        return pq.ParquetFile(out).metadata.num_rows
    offset = 0
    with RowGroupWriter(out) as writer:
        for batch in batches(path):
            writer.write(batch.filter(keep.slice(offset, batch.num_rows)))
            offset += batch.num_rows
        return writer.close(pq.read_schema(path))

"""The stages of a product run: build → de-identify → risk check → publish.

Each stage takes the run's resources and a `ProductRef` (paths, hashes, counts) and returns a
new one, so Airflow passes only references through XCom. A stage that stops the product
records why in `product_runs` and returns the reference with `blocked` set; later stages pass
it through.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq
from sqlalchemy import func, select

from yishu.access import audit
from yishu.db.models import ProductRun, ProductVersion
from yishu.db.queries import latest_usable
from yishu.definitions import GRADES, LEVELS
from yishu.deid import policy as deid_policy
from yishu.deid import risk
from yishu.deid.aggregate import aggregate
from yishu.deid.recognizers import STRONG_IDENTIFIERS
from yishu.deid.scan import PERSONAL_IDENTIFIERS, identifies_a_person, scan_table
from yishu.pipeline.refs import ProductRef
from yishu.pipeline.voucher import file_sha256, sign
from yishu.resources import Resources

# Columns whose element is at most this level are "not personal data"; they are sampled for
# PII before de-identification (drift detection).
DRIFT_LEVELS = ("L1", "L2")
DRIFT_SAMPLE_ROWS = 5000
CODE_VERSION = "3"  # bump when stage logic changes what a version contains


class NothingToPublish(Exception):
    """No usable batch of the product's source yet (all quarantined, or none collected)."""


def _record(res: Resources, product: str, partition: str, status: str,
            reason: str | None = None, report: str | None = None) -> None:
    res.db.upsert(ProductRun, {"product": product, "partition": partition}, status=status,
                  reason=reason, report_path=report)


def _block(res: Resources, ref: ProductRef, reason: str) -> ProductRef:
    _record(res, ref.product, ref.partition, "blocked", reason, ref.report)
    return ref.but(blocked=reason)


def _work(res: Resources, ref: ProductRef, name: str) -> Path:
    return res.storage.work_dir(ref.product, ref.partition) / name


def _write_report(res: Resources, ref: ProductRef, section: str, data) -> str:
    path = _work(res, ref, "deid_report.json")
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    report[section] = data
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str),
                    encoding="utf-8")
    return str(path)


def build(res: Resources, product_name: str, partition: str) -> ProductRef:
    product = res.catalog.products[product_name]
    batch = latest_usable(res.db, product.source, partition)
    if batch is None:
        raise NothingToPublish(
            f"product {product_name}: source '{product.source}' has no landed or released batch "
            f"up to {partition}: see `yishu quarantine ls`")
    snapshot = res.storage.raw_snapshot(batch.source, batch.partition, batch.snapshot_sha256,
                                        ".parquet")
    ref = ProductRef(product=product_name, partition=partition, source=batch.source,
                     source_partition=batch.partition, source_sha256=batch.snapshot_sha256,
                     source_grade=batch.quality_grade, snapshot=str(snapshot), rows=batch.rows)
    _work(res, ref, "deid_report.json").unlink(missing_ok=True)  # a rerun starts afresh
    return ref


def _findings(findings: dict) -> str:
    return "; ".join(f"{col}: {f['entities']}" for col, f in findings.items())


def _exclude_rows(product, table: pa.Table) -> tuple[pa.Table, list[dict]]:
    """Drop the rows a product declares out of scope (`exclude_rows`), counting each rule."""
    report = []
    for rule in product.exclude_rows:
        column = pc.utf8_upper(table.column(rule["column"]).cast(pa.string()))
        hit = pc.fill_null(pc.starts_with(column, rule["starts_with"].upper()), False)
        report.append({**rule, "rows": pc.sum(hit).as_py() or 0})
        table = table.filter(pc.invert(hit))
    return table, report


def deidentify(res: Resources, ref: ProductRef) -> ProductRef:
    if ref.blocked:
        return ref
    cat = res.catalog
    product = cat.products[ref.product]
    source = cat.sources[product.source]
    table = pq.read_table(ref.snapshot)
    declared_safe = [c.name for c in source.columns.values()
                     if cat.elements[c.element].security_level in DRIFT_LEVELS
                     and not cat.elements[c.element].pii_entity]
    table, excluded = _exclude_rows(product, table)
    drift = scan_table(table, declared_safe, sample_rows=DRIFT_SAMPLE_ROWS,
                       entities=set(PERSONAL_IDENTIFIERS))
    _write_report(res, ref, "rows_excluded", excluded)
    ref = ref.but(report=_write_report(res, ref, "drift", drift))
    if drift:
        return _block(res, ref, f"drift: personal data found in column(s) declared "
                           f"{'/'.join(DRIFT_LEVELS)} ({_findings(drift)}): declare the "
                           "element's level and pii_entity in elements.yaml, or fix the source")
    out, columns = deid_policy.apply_policy(cat, product, table, ref.partition, res.keys)
    path = _work(res, ref, "deidentified.parquet")
    pq.write_table(out, path)
    _write_report(res, ref, "columns", columns)
    graded = columns
    if product.aggregate:  # measures are statistics (L1); only group-by columns carry a level
        graded = {c: columns[c] for c in product.aggregate["group_by"] if c in columns}
    return ref.but(deidentified=str(path), level=deid_policy.product_level(graded),
                   policy_sha256=deid_policy.policy_hash(cat, product))


def check_risk(res: Resources, ref: ProductRef) -> ProductRef:
    if ref.blocked:
        return ref
    product = res.catalog.products[ref.product]
    zone = res.catalog.zones[product.zone]
    table = pq.read_table(ref.deidentified)
    residual = scan_table(table, entities=set(STRONG_IDENTIFIERS), keep=identifies_a_person)
    _write_report(res, ref, "residual", residual)
    if residual:
        return _block(res, ref, f"residual scan found strong identifiers after de-identification "
                           f"({_findings(residual)}): change the column policy to drop, mask "
                           "or pseudonymize")
    if product.aggregate:
        kept, summary = aggregate(table, product.aggregate)
        _write_report(res, ref, "aggregate", summary)
        extra = {"k_achieved": None, "cells_suppressed": summary["cells_suppressed"]}
    else:
        sensitive = product.sensitive_attribute
        kept, result = risk.k_anonymize(table, list(product.quasi_identifiers), zone.k,
                                        zone.max_suppression, sensitive=sensitive,
                                        l_required=2 if sensitive else None)
        _write_report(res, ref, "risk", result.to_dict())
        if not result.passed:
            return _block(res, ref, f"re-identification risk: {result.reason}")
        extra = {"k_achieved": result.k_achieved, "rows_suppressed": result.rows_suppressed}
    path = _work(res, ref, "final.parquet")
    pq.write_table(kept, path)
    return ref.but(final=str(path), rows_out=kept.num_rows, **extra)


def _publishable_report(work_report: Path, published: Path) -> None:
    """The report operators receive: the smallest equivalence classes are the rows that were
    suppressed, so their quasi-identifier values stay in the bureau's work copy."""
    report = json.loads(work_report.read_text(encoding="utf-8"))
    if report.get("risk"):
        report["risk"]["smallest_classes"] = [{"rows": c["rows"]} for c in
                                              report["risk"]["smallest_classes"]]
    published.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str),
                         encoding="utf-8")


def _fingerprint(ref: ProductRef) -> str:
    parts = [ref.source_sha256, ref.policy_sha256, CODE_VERSION]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def publish(res: Resources, ref: ProductRef) -> ProductRef:
    if ref.blocked:
        return ref
    product = res.catalog.products[ref.product]
    zone = res.catalog.zones[product.zone]
    grade = ref.source_grade or "E"
    if GRADES.index(grade) > GRADES.index(zone.min_quality_grade):
        return _block(res, ref, f"quality grade {grade} of source '{product.source}' is below the "
                           f"zone's minimum {zone.min_quality_grade} (不合规不挂牌)")
    if LEVELS.index(ref.level) > LEVELS.index(zone.max_level):
        return _block(res, ref, f"product level {ref.level} exceeds zone '{zone.name}' maximum "
                           f"{zone.max_level}: mask, generalize or drop the highest columns")
    if not ref.rows_out:
        return _block(res, ref, f"no rows left to publish (source batch {ref.source}/"
                                f"{ref.source_partition} has {ref.rows}): nothing is listed")
    fingerprint = _fingerprint(ref)
    with res.db.session() as s:
        existing = s.scalar(select(ProductVersion).where(
            ProductVersion.product == product.name, ProductVersion.fingerprint == fingerprint))
        if existing:
            _record(res, product.name, ref.partition, "unchanged",
                    f"same inputs as v{existing.version}",
                    str(Path(existing.path) / "deid_report.json"))
            return ref.but(version=existing.version, unchanged=True)
        version = (s.scalar(select(func.max(ProductVersion.version))
                            .where(ProductVersion.product == product.name)) or 0) + 1
    folder = res.storage.product_version_dir(zone.name, product.name, version)
    table = pq.read_table(ref.final)
    shutil.copyfile(ref.final, folder / "data.parquet")
    pv.write_csv(table, folder / "data.csv")
    _publishable_report(Path(ref.report), folder / "deid_report.json")
    body = {
        "product": product.name, "title_zh": product.title_zh, "version": version,
        "zone": zone.name, "scenario": product.scenario, "security_level": ref.level,
        "quality_grade": grade, "rows": table.num_rows, "partition": ref.partition,
        "schema": {f.name: str(f.type) for f in table.schema},
        "files": {name: file_sha256(folder / name)
                  for name in ("data.parquet", "data.csv", "deid_report.json")},
        "lineage": [{"source": ref.source, "partition": ref.source_partition,
                     "snapshot_sha256": ref.source_sha256}],
        "deid_policy_sha256": ref.policy_sha256, "k_anonymity": ref.k_achieved,
        "audit_head": audit.head(res.db),  # anchors the audit log: truncation is noticed
    }
    voucher = sign(body, res.keys)
    (folder / "voucher.json").write_text(json.dumps(voucher, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    with res.db.session() as s:
        s.add(ProductVersion(product=product.name, zone=zone.name, version=version,
                             partition=ref.partition, rows=table.num_rows,
                             security_level=ref.level, quality_grade=grade,
                             fingerprint=fingerprint, path=str(folder), voucher=voucher))
        s.commit()
    _record(res, product.name, ref.partition, "published", f"v{version}",
            str(folder / "deid_report.json"))
    audit.record(res.db, "product.publish", f"{zone.name}/{product.name}/v{version}",
                 {"rows": table.num_rows, "level": ref.level, "grade": grade,
                  "voucher_signature": voucher["signature"]})
    return ref.but(version=version, path=str(folder), unchanged=False)

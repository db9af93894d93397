"""The stages of a product run: build → de-identify → risk check → publish.

Each stage takes the run's resources and a `ProductRef` (paths, hashes, counts) and returns a
new one, so Airflow passes only references through XCom. A stage that stops the product
records why in `product_runs` and returns the reference with `blocked` set; later stages pass
it through. Each run works in its own folder (`work/<product>/<partition>/<run id>/`), so
concurrent runs of one product and partition share no file; the version number comes from a
reservation in the database (db/reservations.py) and the version's folder appears whole
(publication.py), recorded with its audit entry in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from yishu.access import audit
from yishu.db import reservations
from yishu.db.models import ProductRun, ProductVersion, VersionReservation
from yishu.definitions import GRADES, LEVELS
from yishu.deid import policy as deid_policy
from yishu.pipeline import (
    deid_parts,
    join,
    product_deid,
    product_risk,
    publication,
    row_groups,
    spreadsheet,
)
from yishu.pipeline.join import NothingToPublish  # noqa: F401 (stages.NothingToPublish)
from yishu.pipeline.refs import ProductRef
from yishu.pipeline.voucher import file_sha256, sign
from yishu.resources import Resources

CODE_VERSION = "6"  # bump when stage logic changes what a version contains


def _record(res: Resources, product: str, partition: str, status: str,
            reason: str | None = None, report: str | None = None) -> None:
    res.db.upsert(ProductRun, {"product": product, "partition": partition}, status=status,
                  reason=reason, report_path=report)


def _block(res: Resources, ref: ProductRef, reason: str) -> ProductRef:
    _record(res, ref.product, ref.partition, "blocked", reason, ref.report)
    return ref.but(blocked=reason)


def _record_in(session: Session, product: str, partition: str, status: str,
               reason: str | None = None, report: str | None = None) -> None:
    """`_record` inside a transaction of the caller's (publishing records the run with it)."""
    run = session.scalar(select(ProductRun).where(ProductRun.product == product,
                                                  ProductRun.partition == partition))
    if run is None:
        run = ProductRun(product=product, partition=partition)
        session.add(run)
    run.status, run.reason, run.report_path = status, reason, report


def _work_dir(res: Resources, ref: ProductRef) -> Path:
    return res.storage.run_work_dir(ref.product, ref.partition, ref.run_id)


def _work(res: Resources, ref: ProductRef, name: str) -> Path:
    return _work_dir(res, ref) / name


def new_run_id(label: str | None = None) -> str:
    """A run's own id: the scheduler's run id made path-safe (when there is one), plus a random
    part, so two runs never share a work folder or a staging folder."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label or "").strip("-._")[:60]
    return f"{safe}.{secrets.token_hex(4)}" if safe else secrets.token_hex(6)


def _write_report(res: Resources, ref: ProductRef, section: str, data) -> str:
    path = _work(res, ref, "deid_report.json")
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    report[section] = data
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str),
                    encoding="utf-8")
    return str(path)


def build(res: Resources, product_name: str, partition: str,
          run_id: str | None = None) -> ProductRef:
    """The run's reference: which batches it reads (NothingToPublish, recorded as a skipped
    run, when a source has none). `run_id` labels the run's work folder (Airflow passes its
    run id); a random part is added either way."""
    try:
        inputs = join.usable_inputs(res, res.catalog.products[product_name], partition)
    except NothingToPublish as exc:  # the run is skipped; why is kept with the product's runs
        _record(res, product_name, partition, "skipped", str(exc))
        raise
    first = inputs[0]
    return ProductRef(product=product_name, partition=partition, source=first["source"],
                      source_partition=first["partition"], source_sha256=first[
                          "snapshot_sha256"], source_grade=join.worst_grade(inputs),
                      snapshot=first["snapshot"], rows=first["rows"], inputs=tuple(inputs),
                      run_id=new_run_id(run_id))  # a fresh work folder: nothing left to clear


def _findings(findings: dict) -> str:
    return "; ".join(f"{col}: {f['entities']}" for col, f in findings.items())


def deidentify(res: Resources, ref: ProductRef) -> ProductRef:
    """The de-identify stage in one task: its plan, every part in turn, the merge."""
    ref, parts = deidentify_plan(res, ref)
    return deidentify_merge(res, ref, [deidentify_part(res, ref, part) for part in parts])


def deidentify_plan(res: Resources, ref: ProductRef) -> tuple[ProductRef, list[dict]]:
    """Rows out of scope and the drift scan (a finding blocks the run), then the parts the
    column policy runs in (pipeline/deid_parts.py); a blocked run still has one part, which
    passes it on."""
    if ref.blocked:
        return ref, [dict(deid_parts.ONE_PART)]
    cat = res.catalog
    product = cat.products[ref.product]
    read, names, rows, joined = product_deid.reader(cat, product, list(ref.inputs))
    if joined:
        _write_report(res, ref, "join", joined)
    excluded, rows = product_deid.excluded(product, read, rows)
    drift = product_deid.drift(cat, product, read, names, rows)
    _write_report(res, ref, "rows_excluded", excluded)
    ref = ref.but(report=_write_report(res, ref, "drift", drift))
    if drift:
        ref = _block(res, ref, f"drift: personal data found in column(s) declared "
                          f"{'/'.join(product_deid.DRIFT_LEVELS)} ({_findings(drift)}): declare "
                          "the element's level and pii_entity in elements.yaml, or fix the source")
        return ref, [dict(deid_parts.ONE_PART)]
    columns = product_deid.needed_columns(product)
    return ref, deid_parts.split(product, read, columns, rows, res.settings.fanout_rows,
                                 _work_dir(res, ref), joined=joined is not None)


def deidentify_part(res: Resources, ref: ProductRef, part: dict) -> dict:
    """The column policy over one part's rows: `{index, row_groups, rows, redacted}`, the
    spans redacted as [column, entity, count] rows."""
    if ref.blocked:
        return {**part, "rows": 0, "redacted": []}
    cat = res.catalog
    product = cat.products[ref.product]
    read = product_deid.reader(cat, product, list(ref.inputs))[0] if part[
        "row_groups"] is None else None  # a part of many reads the in-scope file
    work = _work_dir(res, ref)
    rows_in_scope = deid_parts.rows_of(product, read, product_deid.needed_columns(product),
                                       work, part)
    rows, redacted = product_deid.apply_policy(cat, product, rows_in_scope, ref.partition,
                                               res.keys, deid_parts.output(work, part))
    return {**part, "rows": rows, "redacted": [[c, e, n] for (c, e), n in redacted.items()]}


def deidentify_merge(res: Resources, ref: ProductRef, parts: list[dict]) -> ProductRef:
    """The parts in one de-identified file, the per-column report over all of them, and the
    product's level."""
    if ref.blocked:
        return ref
    cat = res.catalog
    product = cat.products[ref.product]
    path = deid_parts.merge(_work_dir(res, ref), parts)
    redacted = Counter()
    for part in parts:
        redacted.update({(c, e): n for c, e, n in part["redacted"]})
    columns = product_deid.columns_report(cat, product, ref.partition, res.keys, redacted)
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
    residual, declared = product_risk.residual(res.catalog, product, ref.deidentified)
    _write_report(res, ref, "residual", residual)
    if declared:
        _write_report(res, ref, "kept_with_reason", declared)
    if residual:
        return _block(res, ref, f"residual scan found personal identifiers after "
                           f"de-identification ({_findings(residual)}): change the column "
                           "policy to drop, mask or pseudonymize")
    path = _work(res, ref, "final.parquet")
    if product.aggregate:
        rows, summary = product_risk.aggregated(product, ref.deidentified, path)
        _write_report(res, ref, "aggregate", summary)
        extra = {"k_achieved": None, "cells_suppressed": summary["cells_suppressed"]}
    else:
        keep, result = product_risk.k_anonymous(product, zone, ref.deidentified)
        _write_report(res, ref, "risk", result.to_dict())
        if not result.passed:
            return _block(res, ref, f"re-identification risk: {result.reason}")
        rows = product_risk.suppress(ref.deidentified, keep, path)
        extra = {"k_achieved": result.k_achieved, "rows_suppressed": result.rows_suppressed}
    return ref.but(final=str(path), rows_out=rows, **extra)


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
    parts = [*(i["snapshot_sha256"] for i in ref.inputs), ref.policy_sha256, CODE_VERSION]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def publish(res: Resources, ref: ProductRef) -> ProductRef:
    if ref.blocked:
        return ref
    product = res.catalog.products[ref.product]
    zone = res.catalog.zones[product.zone]
    grade = ref.source_grade or "E"
    if GRADES.index(grade) > GRADES.index(zone.min_quality_grade):
        weakest = [i["source"] for i in ref.inputs if (i["grade"] or "E") == grade]
        return _block(res, ref, f"quality grade {grade} of source '{', '.join(weakest)}' is below "
                           f"the zone's minimum {zone.min_quality_grade} (不合规不挂牌)")
    if LEVELS.index(ref.level) > LEVELS.index(zone.max_level):
        return _block(res, ref, f"product level {ref.level} exceeds zone '{zone.name}' maximum "
                           f"{zone.max_level}: mask, generalize or drop the highest columns")
    if not ref.rows_out:
        return _block(res, ref, f"no rows left to publish (source batch {ref.source}/"
                                f"{ref.source_partition} has {ref.rows}): nothing is listed")
    fingerprint = _fingerprint(ref)
    with res.db.session() as s:
        existing = _published(s, product.name, fingerprint)
        retry = existing is not None and s.scalar(select(VersionReservation.run_id).where(
            VersionReservation.product == product.name,
            VersionReservation.version == existing.version)) == ref.run_id
    if retry:  # this run published it and its task failed afterwards: report it again as is
        _clean_work(res, ref)
        return ref.but(version=existing.version, path=existing.path, unchanged=False)
    if existing:
        return _unchanged(res, ref, existing)
    version = reservations.reserve_version(res.db, product.name, fingerprint, ref.run_id)
    final, staging, discard = res.storage.version_paths(zone.name, product.name, version,
                                                        ref.run_id)
    voucher, rows = _stage(res, ref, version, grade, publication.fresh(staging))
    try:
        existing = _commit(res, ref, fingerprint, version, grade, rows, voucher,
                           (final, staging, discard))
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # what is left of it was not published
    if existing:  # a run with the same inputs published while this one was staging
        return _unchanged(res, ref, existing)
    _clean_work(res, ref)
    return ref.but(version=version, path=str(final), unchanged=False)


def _commit(res: Resources, ref: ProductRef, fingerprint: str, version: int, grade: str,
            rows: int, voucher: dict, paths: tuple[Path, Path, Path]) -> ProductVersion | None:
    """Move the staged folder into place and record the version, its run and its audit entry
    in one transaction, under the audit writers' lock; the version already published with the
    same inputs, if another run got there first."""
    final, staging, discard = paths
    product = res.catalog.products[ref.product]
    with res.db.session() as s:
        audit.lock(res, s)  # one publisher at a time from here to commit, and a sound log
        existing = _published(s, product.name, fingerprint)
        if existing:
            return existing
        taken = s.scalar(select(ProductVersion).where(ProductVersion.product == product.name,
                                                      ProductVersion.version == version))
        if taken is not None:  # never: numbers are reserved; never replace a published folder
            raise RuntimeError(f"{product.name} v{version} is already published "
                               f"({taken.path}); its reservation was lost: run it again")
        publication.move_into_place(staging, final, discard)
        row = ProductVersion(product=product.name, zone=product.zone, version=version,
                             partition=ref.partition, rows=rows, security_level=ref.level,
                             quality_grade=grade, fingerprint=fingerprint, path=str(final),
                             voucher=voucher)
        try:
            s.add(row)
            _record_in(s, product.name, ref.partition, "published", f"v{version}",
                       str(final / "deid_report.json"))
            audit.append(res, s, "product.publish", f"{product.zone}/{product.name}/v{version}",
                         {"rows": rows, "level": ref.level, "grade": grade,
                          "voucher_signature": voucher["signature"]})
            s.commit()
        except BaseException:
            if not inspect(row).persistent:  # the transaction did not commit
                publication.withdraw(final, staging)
            raise
    return None


def _published(session: Session, product: str, fingerprint: str) -> ProductVersion | None:
    return session.scalar(select(ProductVersion).where(ProductVersion.product == product,
                                                       ProductVersion.fingerprint == fingerprint))


def _unchanged(res: Resources, ref: ProductRef, existing: ProductVersion) -> ProductRef:
    _record(res, ref.product, ref.partition, "unchanged", f"same inputs as v{existing.version}",
            str(Path(existing.path) / "deid_report.json"))
    _clean_work(res, ref)
    return ref.but(version=existing.version, unchanged=True)


def _clean_work(res: Resources, ref: ProductRef) -> None:
    """Drop the run's intermediate tables once it is over; its report stays (the steward's
    copy of the smallest classes)."""
    for name in (deid_parts.DEIDENTIFIED, "final.parquet"):
        _work(res, ref, name).unlink(missing_ok=True)
    for path in deid_parts.work_files(_work_dir(res, ref)):
        path.unlink(missing_ok=True)


def _stage(res: Resources, ref: ProductRef, version: int, grade: str,
           folder: Path) -> tuple[dict, int]:
    """Write the version's files and its signed voucher into the staging folder, durably."""
    product = res.catalog.products[ref.product]
    shutil.copyfile(ref.final, folder / "data.parquet")
    rows = pq.ParquetFile(ref.final).metadata.num_rows
    schema = pq.read_schema(ref.final)
    # formulas neutralized in the CSV; the Parquet exact
    spreadsheet.write_csv(row_groups.batches(ref.final), schema, folder / "data.csv")
    _publishable_report(Path(ref.report), folder / "deid_report.json")
    body = {
        "product": product.name, "title_zh": product.title_zh, "version": version,
        "zone": product.zone, "scenarios": list(product.scenarios), "security_level": ref.level,
        "quality_grade": grade, "rows": rows, "partition": ref.partition,
        "schema": {f.name: str(f.type) for f in schema},
        "files": {name: file_sha256(folder / name)
                  for name in ("data.parquet", "data.csv", "deid_report.json")},
        "lineage": join.lineage(list(ref.inputs)),
        "deid_policy_sha256": ref.policy_sha256, "k_anonymity": ref.k_achieved,
        "audit_head": audit.head(res.db),  # anchors the audit log: truncation is noticed
    }
    voucher = sign(body, res.keys)
    (folder / "voucher.json").write_text(json.dumps(voucher, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    publication.flush(folder)
    return voucher, rows

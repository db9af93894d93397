"""Which source snapshots, which run and which policy produced a published version: read
back from the catalog database and the signed voucher (the voucher is what the operator
holds, so its lineage is the authority; the database adds where the raw bytes are kept)."""

from __future__ import annotations

from sqlalchemy import select

from yishu.db.models import AuditEntry, Batch, ProductVersion, VersionReservation
from yishu.errors import UserInputError
from yishu.resources import Resources


def provenance(res: Resources, product: str, version: int | None = None) -> dict:
    """The provenance of `version` of `product` (the newest when not given)."""
    with res.db.session() as s:
        query = select(ProductVersion).where(ProductVersion.product == product)
        if version is not None:
            query = query.where(ProductVersion.version == version)
        found = s.scalars(query.order_by(ProductVersion.version.desc())).first()
        if found is None:
            known = sorted(set(s.scalars(select(ProductVersion.product))))
            what = f"version {version} of '{product}'" if version else f"'{product}'"
            raise UserInputError(f"no published {what}; published products: "
                                 f"{', '.join(known) or 'none'} (see `yishu catalog ls`)")
        body = found.voucher["body"]
        subject = f"{found.zone}/{found.product}/v{found.version}"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "product.publish",
                                                   AuditEntry.subject == subject)).first()
        run = s.scalars(select(VersionReservation.run_id).where(
            VersionReservation.product == product,
            VersionReservation.version == found.version)).first()
        inputs = []
        for item in body.get("lineage", []):
            batch = s.scalars(select(Batch).where(
                Batch.source == item["source"], Batch.partition == item["partition"],
                Batch.snapshot_sha256 == item["snapshot_sha256"])).first()
            inputs.append({**item, "raw_path": batch.raw_path if batch else None,
                           "batch_status": batch.status if batch else "not in this database",
                           "quality_grade": batch.quality_grade if batch else None})
        return {
            "product": found.product, "zone": found.zone, "version": found.version,
            "partition": found.partition, "rows": found.rows,
            "security_level": found.security_level, "quality_grade": found.quality_grade,
            "published_at": found.created_at.isoformat(), "path": found.path,
            "run_id": run, "fingerprint": found.fingerprint,
            "deid_policy_sha256": body.get("deid_policy_sha256"),
            "k_anonymity": body.get("k_anonymity"), "sources": inputs,
            "audit": ({"seq": entry.seq, "actor": entry.actor, "at": entry.at.isoformat()}
                      if entry else None),
        }
